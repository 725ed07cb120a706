package actnet

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"testing"
)

// A PID where an Alias is expected, or the reverse, does not compile: testdata/typedids
// fails to build, on exactly its lines marked "want error".
func TestTypedIDsDoNotMix(t *testing.T) {
	const dir = "testdata/typedids"
	src, err := os.ReadFile(filepath.Join(dir, "main.go"))
	ok(t, err)
	var want []int
	for i, line := range bytes.Split(src, []byte("\n")) {
		if bytes.HasSuffix(line, []byte("// want error")) {
			want = append(want, i+1)
		}
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Fatalf("no go command to build %s: %v", dir, err)
		}
	}
	out, err := exec.Command(goTool, "build", "-o", os.DevNull, "./"+dir).CombinedOutput()
	if err == nil {
		t.Fatalf("%s compiled", dir)
	}
	var got []int
	for _, m := range regexp.MustCompile(`main\.go:(\d+):\d+: (.*)`).FindAllSubmatch(out, -1) {
		line, _ := strconv.Atoi(string(m[1]))
		got = append(got, line)
		if !bytes.Contains(m[2], []byte("cannot use")) {
			t.Errorf("line %d: unexpected error %s", line, m[2])
		}
	}
	sort.Ints(got)
	if len(got) != len(want) {
		t.Fatalf("errors on lines %v, want %v; go build said:\n%s", got, want, out)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("errors on lines %v, want %v; go build said:\n%s", got, want, out)
		}
	}
}
