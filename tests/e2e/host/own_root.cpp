// berth_own_root COMMAND [ARGS...]: runs COMMAND with "/" as the root of its
// own mount namespace, as on any real machine or container.
//
// Why: a plain chroot (a brand-new root made by debootstrap, some CI
// runners) shares the machine's mount namespace, and "/" is not that
// namespace's root. A container started from there is pivoted into its
// rootfs at the chroot's position, not at the namespace's "/", so every
// `podman exec` / `docker exec` (runc joins the container's mount namespace,
// whose root is the machine's "/") runs on the machine's files instead of the
// container's: `cat /data/file.txt` finds nothing, `touch /tmp/x` lands on
// the machine. The end-to-end hosts are meant to behave like real hosts, so
// the suite runs inside a private mount namespace pivoted onto the chroot.
//
// Outside a chroot this just executes COMMAND. Inside one (root required):
// unshare the mount namespace, make it private, step to its real root
// (setns into our own namespace resets root and cwd to it), bind the chroot
// onto itself recursively, pivot_root into it and drop the old tree. Every
// step is one system call of this process, so nothing of the machine outside
// the chroot is executed. Only this namespace changes; the machine's mounts
// and the chroot as others see it are untouched. Where a step is refused
// (no privilege, an initramfs root), it says so and runs COMMAND in the
// chroot as it is.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "berth_own_root: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(125);
}

bool warn(const std::string& what) {
  std::fprintf(stderr, "berth_own_root: %s: %s; running in the chroot as it is\n", what.c_str(),
               std::strerror(errno));
  return false;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/// True when "/" is not the root of the current mount namespace: a child
/// joins the namespace it is already in, which moves its root to the
/// namespace's root, and compares.
bool chrooted() {
  struct stat here {};
  if (::stat("/", &here) != 0) die("stat /");
  pid_t child = ::fork();
  if (child < 0) die("fork");
  if (child == 0) {
    int ns = ::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNS) != 0) ::_exit(2);  // no /proc, or not root
    struct stat top {};
    if (::stat("/", &top) != 0) ::_exit(2);
    ::_exit(same_file(here, top) ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) < 0) die("waitpid");
  return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

/// Unshares the mount namespace and pivots it onto the chroot. On a failure
/// after the unshare, steps back into the chroot and says why: the caller
/// runs the command anyway, and the environment's own check (env.sh's exec
/// probe) reports what does not work.
bool pivot_onto_chroot() {
  if (::unshare(CLONE_NEWNS) != 0) return warn("unshare(CLONE_NEWNS)");
  // Our root, held open across the step out to the namespace's root.
  int root = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return warn("open /");
  auto back = [root](const std::string& what) {
    bool said = warn(what);
    if (::fchdir(root) != 0 || ::chroot(".") != 0) die("cannot return into the chroot");
    ::close(root);
    return said;
  };
  int ns = ::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (ns < 0) return back("open /proc/self/ns/mnt");
  int joined = ::setns(ns, CLONE_NEWNS);
  ::close(ns);
  if (joined != 0) return back("setns");
  // pivot_root refuses shared mounts; private also keeps what happens here
  // from propagating to the machine.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return back("make / private");
  char target[4096];
  std::string fd_link = "/proc/self/fd/" + std::to_string(root);
  ssize_t n = ::readlink(fd_link.c_str(), target, sizeof target - 1);
  if (n <= 0) return back("readlink " + fd_link);
  target[n] = '\0';
  std::string new_root = target;
  // A mount point of its own (with /proc, /dev, /sys... along), as
  // pivot_root needs.
  if (::mount(new_root.c_str(), new_root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return back("bind " + new_root);
  const char* old_name = "/.berth-own-root-old";
  std::string put_old = new_root + old_name;
  if (::mkdir(put_old.c_str(), 0700) != 0 && errno != EEXIST) return back("mkdir " + put_old);
  if (::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()) != 0) {
    int e = errno;
    ::rmdir(put_old.c_str());
    errno = e;
    return back("pivot_root");
  }
  if (::chdir("/") != 0) die("chdir /");
  if (::umount2(old_name, MNT_DETACH) != 0) die(std::string("umount ") + old_name);
  ::rmdir(old_name);
  ::close(root);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: berth_own_root COMMAND [ARGS...]\n");
    return 2;
  }
  if (chrooted()) {
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) die("getcwd");
    if (pivot_onto_chroot())
      std::fprintf(stderr,
                   "berth_own_root: / is a chroot in the machine's mount namespace; running in a "
                   "private mount namespace rooted at it, so that container exec sees the "
                   "container's files\n");
    if (::chdir(cwd) != 0) die(std::string("chdir ") + cwd);
  }
  ::execvp(argv[1], argv + 1);
  die(std::string("exec ") + argv[1]);
}
