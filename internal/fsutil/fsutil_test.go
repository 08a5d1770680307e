package fsutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// holdLockEnv makes the test binary, run as a child, lock the folder it
// names, say "locked" on stdout and wait until stdin closes or it is
// killed.
const holdLockEnv = "FSUTIL_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdLockEnv); dir != "" {
		if _, err := Lock(dir); err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	if path := os.Getenv(writeEnv); path != "" {
		err := WriteFile(path, 0o644, func(w io.Writer) error {
			io.WriteString(w, "half a checkpoint")
			fmt.Println("writing")
			io.Copy(io.Discard, os.Stdin) // until killed
			return errors.New("stopped")
		})
		fmt.Println(err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// writeEnv makes the test binary, run as a child, start a WriteFile of
// the path it names, say "writing" and stay in the middle of it until it
// is killed.
const writeEnv = "FSUTIL_TEST_WRITE"

// temps lists the names in dir that IsTemp matches.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if IsTemp(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := WriteFileBytes(path, 0o640, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, 0o600, func(w io.Writer) error {
		_, err := io.WriteString(w, "second")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "second" {
		t.Fatalf("read %q, %v; want \"second\"", b, err)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("permissions %v, want 0600", fi.Mode().Perm())
	}
	if ts := temps(t, dir); len(ts) != 0 {
		t.Fatalf("temporary files left: %v", ts)
	}
	// A path without a folder writes in the current one.
	t.Chdir(dir)
	if err := WriteFileBytes("plain.txt", 0o644, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "plain.txt")); string(b) != "x" {
		t.Fatalf("plain.txt holds %q", b)
	}
}

func TestWriteFileFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.json")
	if err := WriteFileBytes(path, 0o644, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFile(path, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half of the new")
		if ts := temps(t, dir); len(ts) != 1 || !strings.HasPrefix(ts[0], ".metrics.json.nabla-tmp-") {
			t.Errorf("while writing, temporary files %v, want one .metrics.json.nabla-tmp-N", ts)
		}
		return boom
	})
	if err != boom {
		t.Fatalf("error %v, want write's own error", err)
	}
	// A panic in write leaves nothing behind either.
	func() {
		defer func() { recover() }()
		WriteFile(path, 0o644, func(w io.Writer) error { panic("write panicked") })
	}()
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("file holds %q after failed writes, want \"old\"", b)
	}
	if ts := temps(t, dir); len(ts) != 0 {
		t.Fatalf("temporary files left: %v", ts)
	}
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	err := WriteFileBytes(dir, 0o644, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), dir+": is a directory") {
		t.Fatalf("writing over a folder: %v", err)
	}
	missing := filepath.Join(dir, "no", "such", "file")
	err = WriteFileBytes(missing, 0o644, []byte("x"))
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != missing || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("writing into a missing folder: %v, want a *fs.PathError naming %s", err, missing)
	}
	if strings.Contains(err.Error(), tempMarker) {
		t.Fatalf("error names the temporary file: %v", err)
	}
}

func TestCleanTemps(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * StaleAge)
	mk := func(name string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	keep := []string{"checkpoint.safetensors", "metrics.jsonl", ".lock", ".hidden", "x.tmp", ".a.tmp",
		".nabla-tmp-1", ".x.nabla-tmp-12a", ".fresh.safetensors.tmp123", ".config-9.json.bak"}
	for _, n := range keep {
		mk(n, old)
	}
	mk(".fresh.safetensors.tmp123", time.Now()) // legacy, fresh: its writer may still run
	stale := []string{".checkpoint.safetensors.nabla-tmp-123", ".checkpoint.safetensors.tmp4567",
		".train-images-idx3-ubyte.gz.89.tmp", ".config-42.json"}
	for _, n := range stale {
		mk(n, old)
	}
	if flockable() { // judged by the lock, not the age
		mk(".new.safetensors.nabla-tmp-77", time.Now())
		stale = append(stale, ".new.safetensors.nabla-tmp-77")
	}
	// A write in progress keeps its temporary file, whatever its age.
	path := filepath.Join(dir, "model.safetensors")
	var removed []string
	err := WriteFile(path, 0o644, func(w io.Writer) error {
		io.WriteString(w, "model")
		if !flockable() {
			return nil
		}
		for _, n := range temps(t, dir) {
			if strings.HasPrefix(n, ".model.safetensors") {
				p := filepath.Join(dir, n)
				os.Chtimes(p, old, old)
			}
		}
		var err error
		removed, err = CleanTemps(dir)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !flockable() {
		if removed, err = CleanTemps(dir); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, p := range removed {
		got = append(got, filepath.Base(p))
	}
	slices.Sort(got)
	slices.Sort(stale)
	if !slices.Equal(got, stale) {
		t.Fatalf("removed %v, want %v", got, stale)
	}
	for _, n := range append(keep, "model.safetensors") {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "model" {
		t.Fatalf("model.safetensors holds %q", b)
	}
	if r, err := CleanTemps(filepath.Join(dir, "absent")); r != nil || err != nil {
		t.Fatalf("CleanTemps of a missing folder: %v, %v", r, err)
	}
}

func flockable() bool {
	switch runtime.GOOS {
	case "darwin", "dragonfly", "freebsd", "linux", "netbsd", "openbsd":
		return true
	}
	return false
}

func TestLockInProcess(t *testing.T) {
	dir := t.TempDir()
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pid := readPID(filepath.Join(dir, LockFile)); pid != os.Getpid() {
		t.Fatalf("lock file holds pid %d, want %d", pid, os.Getpid())
	}
	_, err = Lock(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("second Lock: %v, want a *LockedError naming this process", err)
	}
	want := fmt.Sprintf("run folder %s is in use by this process (%d) (lock file %s)", dir, os.Getpid(), filepath.Join(dir, LockFile))
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lock file after release: %v", err)
	}
	release, err = Lock(dir)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	release()
	if _, err := Lock(filepath.Join(dir, "absent")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Lock of a missing folder: %v", err)
	}
}

// startHolder runs the test binary as a child that locks dir, and waits
// until it says it holds the lock.
func startHolder(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child said %q, %v; want \"locked\"", line, err)
	}
	return cmd
}

// A lock held by another process is refused with its pid, and a holder
// killed without releasing frees it.
func TestLockOtherProcess(t *testing.T) {
	dir := t.TempDir()
	child := startHolder(t, dir)
	pid := child.Process.Pid
	_, err := Lock(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != pid {
		t.Fatalf("Lock while process %d holds it: %v", pid, err)
	}
	want := fmt.Sprintf("run folder %s is in use by process %d (lock file %s)", dir, pid, filepath.Join(dir, LockFile))
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	if !flockable() {
		return // the pid file stays; TestLockExclStale covers taking it over
	}
	release, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	if pid := readPID(filepath.Join(dir, LockFile)); pid != os.Getpid() {
		t.Fatalf("lock file holds pid %d after takeover, want %d", pid, os.Getpid())
	}
	release()
}

// The pid-file lock of systems without flock, tested here too.
func TestLockExcl(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LockFile)
	release, err := lockExcl(dir, path)
	if err != nil {
		t.Fatal(err)
	}
	var le *LockedError
	if _, err := lockExcl(dir, path); !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("second lockExcl: %v", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}

	// A live process's pid file is respected.
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" {
		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), holdLockEnv+"="+t.TempDir())
		stdin, _ := child.StdinPipe()
		out, _ := child.StdoutPipe()
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		bufio.NewReader(out).ReadString('\n')
		os.WriteFile(path, []byte(strconv.Itoa(child.Process.Pid)+"\n"), 0o644)
		if _, err := lockExcl(dir, path); !errors.As(err, &le) || le.PID != child.Process.Pid {
			t.Errorf("lockExcl with a live holder: %v", err)
		}
		stdin.Close()
		child.Wait()
		// Now it has exited: its pid file is stale and taken over.
		release, err := lockExcl(dir, path)
		if err != nil {
			t.Fatalf("lockExcl over a dead holder's file: %v", err)
		}
		if pid := readPID(path); pid != os.Getpid() {
			t.Fatalf("lock file holds %d, want %d", pid, os.Getpid())
		}
		release()
	}

	// An empty lock file is being written unless it is old.
	os.WriteFile(path, nil, 0o644)
	if _, err := lockExcl(dir, path); !errors.As(err, &le) || le.PID != 0 || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("lockExcl over a fresh empty lock file: %v", err)
	}
	old := time.Now().Add(-2 * StaleAge)
	os.Chtimes(path, old, old)
	release, err = lockExcl(dir, path)
	if err != nil {
		t.Fatalf("lockExcl over an old empty lock file: %v", err)
	}
	release()
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte("{}\n"), 0o644)
	if err := CheckWritable(dir, "metrics.jsonl", "absent.json"); err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Fatalf("CheckWritable left files: %v", es)
	}
	if err := CheckWritable(filepath.Join(dir, "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing folder: %v", err)
	}
	if err := CheckWritable(filepath.Join(dir, "metrics.jsonl")); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Fatalf("a file as the folder: %v", err)
	}
}

// A folder (or a file in it) that cannot be written is reported.
func TestCheckWritableReadOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no read-only folders on Windows")
	}
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only folders; TestCheckWritableImmutable covers this")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), nil, 0o444)
	os.Chmod(ro, 0o555)
	t.Cleanup(func() { os.Chmod(ro, 0o755) })
	err := CheckWritable(ro)
	if err == nil || !errors.Is(err, fs.ErrPermission) || err.Error() != "folder "+ro+" cannot be written: permission denied" {
		t.Fatalf("read-only folder: %v", err)
	}
	if err := CheckWritable(dir, "metrics.jsonl"); err == nil || !strings.Contains(err.Error(), "metrics.jsonl cannot be written") {
		t.Fatalf("read-only file: %v", err)
	}
}

// chattr +i stops even root; it needs the capability and a file system
// that has the attribute, so the test skips where either is missing.
func TestCheckWritableImmutable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("chattr is Linux's")
	}
	chattr, err := exec.LookPath("chattr")
	if err != nil {
		t.Skip("no chattr")
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "run")
	os.Mkdir(sub, 0o755)
	file := filepath.Join(sub, "metrics.jsonl")
	os.WriteFile(file, nil, 0o644)
	if out, err := exec.Command(chattr, "+i", file).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command(chattr, "-i", file).Run() })
	if err := CheckWritable(sub, "metrics.jsonl"); err == nil || !strings.Contains(err.Error(), "metrics.jsonl cannot be written") {
		t.Fatalf("immutable metrics.jsonl: %v", err)
	}
	if out, err := exec.Command(chattr, "+i", sub).CombinedOutput(); err != nil {
		t.Fatalf("chattr +i: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command(chattr, "-i", sub).Run() })
	err = CheckWritable(sub)
	if err == nil || !strings.HasPrefix(err.Error(), "folder "+sub+" cannot be written: ") {
		t.Fatalf("immutable folder: %v", err)
	}
}

// A temporary file that cannot be removed (immutable here) does not stop
// CleanTemps from removing the others; its failure is returned.
func TestCleanTempsPassesOverFailures(t *testing.T) {
	chattr, err := exec.LookPath("chattr")
	if runtime.GOOS != "linux" || err != nil {
		t.Skip("needs chattr")
	}
	dir := t.TempDir()
	old := time.Now().Add(-2 * StaleAge)
	stuck, gone := filepath.Join(dir, ".a.nabla-tmp-1"), filepath.Join(dir, ".b.nabla-tmp-2")
	for _, p := range []string{stuck, gone} {
		os.WriteFile(p, []byte("x"), 0o644)
		os.Chtimes(p, old, old)
	}
	if out, err := exec.Command(chattr, "+i", stuck).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command(chattr, "-i", stuck).Run() })
	removed, err := CleanTemps(dir)
	if err == nil || !slices.Equal(removed, []string{gone}) {
		t.Fatalf("removed %v, error %v; want %s removed and an error for %s", removed, err, gone, stuck)
	}
}

// The orphan of a writer killed mid-write (issue 8: a 6 MB
// .checkpoint.safetensors.tmp… left for ever) is removed by the next
// CleanTemps at once, while a live writer's file in another process is
// left alone.
func TestCleanTempsOtherProcess(t *testing.T) {
	if !flockable() {
		t.Skip("without flock, temporary files are judged by their age")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writeEnv+"="+filepath.Join(dir, "checkpoint.safetensors"))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "writing\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	ts := temps(t, dir)
	if len(ts) != 1 {
		t.Fatalf("temporary files %v, want the child's one", ts)
	}
	if removed, err := CleanTemps(dir); err != nil || len(removed) != 0 {
		t.Fatalf("CleanTemps during the child's write removed %v (%v)", removed, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	removed, err := CleanTemps(dir)
	if err != nil || len(removed) != 1 || filepath.Base(removed[0]) != ts[0] {
		t.Fatalf("CleanTemps after the kill removed %v (%v), want %s", removed, err, ts[0])
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Fatalf("left: %v", es)
	}
}
