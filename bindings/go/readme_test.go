package actnet

import (
	"bytes"
	"os"
	"testing"
)

// firstGoBlock returns the content of the first ```go block of a Markdown file, or nil.
func firstGoBlock(t *testing.T, path string) []byte {
	t.Helper()
	text, err := os.ReadFile(path)
	ok(t, err)
	const open, fence = "```go\n", "```\n"
	start := bytes.Index(text, []byte(open))
	if start < 0 {
		return nil
	}
	body := text[start+len(open):]
	end := bytes.Index(body, []byte(fence))
	if end < 0 {
		t.Fatalf("%s: the first ```go block does not end", path)
	}
	return body[:end]
}

func checkSame(t *testing.T, readme, example string, block []byte) {
	t.Helper()
	want, err := os.ReadFile(example)
	ok(t, err)
	if !bytes.Equal(block, want) {
		t.Fatalf("the first ```go block of %s differs from %s:\n%s", readme, example, block)
	}
}

// The binding's README shows examples/hello/main.go word for word (that file is compiled by
// go vet and run by its Example test).
func TestReadmeExampleInSync(t *testing.T) {
	block := firstGoBlock(t, "README.md")
	if block == nil {
		t.Fatal("README.md has no ```go block")
	}
	checkSame(t, "README.md", "examples/hello/main.go", block)
}

// The repository's README shows examples/minimal/main.go in its Go section, once it has one.
func TestTopLevelReadmeExampleInSync(t *testing.T) {
	const readme = "../../README.md"
	block := firstGoBlock(t, readme)
	if block == nil {
		t.Skip(readme + " has no ```go block yet")
	}
	checkSame(t, readme, "examples/minimal/main.go", block)
}
