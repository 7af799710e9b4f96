package tools

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The apply_patch format (Codex's): a patch is a list of file operations
// between "*** Begin Patch" and "*** End Patch".
//
//	*** Begin Patch
//	*** Add File: path/new.go
//	+every line of the new file, each prefixed with +
//	*** Delete File: path/old.go
//	*** Update File: path/main.go
//	@@ optional text naming where the hunk is
//	 a context line (one leading space)
//	-a line to remove
//	+a line to add
//	*** End Patch
//
// A hunk's context and removed lines must appear in the file exactly once
// (the first match after the previous hunk is used). Every operation is
// worked out in memory first; files are written only when all apply, so a
// patch applies completely or not at all.

type patchOp struct {
	kind  string // add, delete, update
	path  string
	lines []string // add: the content lines
	hunks []hunk
}

type hunk struct{ old, new []string }

func parsePatch(text string) ([]patchOp, error) {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), "\n"), "\n")
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "*** Begin Patch" || strings.TrimSpace(lines[len(lines)-1]) != "*** End Patch" {
		return nil, errors.New(`a patch starts with "*** Begin Patch" and ends with "*** End Patch"`)
	}
	var ops []patchOp
	var cur *patchOp
	for i, l := range lines[1 : len(lines)-1] {
		switch {
		case strings.HasPrefix(l, "*** Add File: "):
			ops = append(ops, patchOp{kind: "add", path: strings.TrimSpace(strings.TrimPrefix(l, "*** Add File: "))})
			cur = &ops[len(ops)-1]
		case strings.HasPrefix(l, "*** Delete File: "):
			ops = append(ops, patchOp{kind: "delete", path: strings.TrimSpace(strings.TrimPrefix(l, "*** Delete File: "))})
			cur = &ops[len(ops)-1]
		case strings.HasPrefix(l, "*** Update File: "):
			ops = append(ops, patchOp{kind: "update", path: strings.TrimSpace(strings.TrimPrefix(l, "*** Update File: "))})
			cur = &ops[len(ops)-1]
		case cur == nil:
			return nil, fmt.Errorf("line %d: %q comes before any *** Add/Delete/Update File line", i+2, l)
		case cur.kind == "add":
			if !strings.HasPrefix(l, "+") {
				return nil, fmt.Errorf("line %d: every line of an added file starts with +", i+2)
			}
			cur.lines = append(cur.lines, l[1:])
		case cur.kind == "update" && strings.HasPrefix(l, "@@"):
			cur.hunks = append(cur.hunks, hunk{})
		case cur.kind == "update":
			if len(cur.hunks) == 0 {
				cur.hunks = append(cur.hunks, hunk{})
			}
			h := &cur.hunks[len(cur.hunks)-1]
			switch {
			case strings.HasPrefix(l, " ") || l == "":
				ctx := strings.TrimPrefix(l, " ")
				h.old, h.new = append(h.old, ctx), append(h.new, ctx)
			case strings.HasPrefix(l, "-"):
				h.old = append(h.old, l[1:])
			case strings.HasPrefix(l, "+"):
				h.new = append(h.new, l[1:])
			default:
				return nil, fmt.Errorf("line %d: a hunk line starts with space, - or +: %q", i+2, l)
			}
		default:
			return nil, fmt.Errorf("line %d: unexpected %q after a Delete File line", i+2, l)
		}
	}
	if len(ops) == 0 {
		return nil, errors.New("the patch holds no file operation")
	}
	return ops, nil
}

// ApplyPatch applies a patch inside root, all or nothing, and returns a
// summary of what changed.
func ApplyPatch(root, text string) (string, error) {
	ops, err := parsePatch(text)
	if err != nil {
		return "", err
	}
	type result struct {
		path    string
		content *string // nil: delete
	}
	var results []result
	pending := map[string]*string{} // what earlier operations in this patch left
	read := func(p string) (string, bool, error) {
		if c, ok := pending[p]; ok {
			if c == nil {
				return "", false, nil
			}
			return *c, true, nil
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return "", false, nil
		}
		return string(b), err == nil, err
	}
	for _, op := range ops {
		p, err := insidePath(root, op.path)
		if err != nil {
			return "", err
		}
		content, exists, err := read(p)
		if err != nil {
			return "", err
		}
		switch op.kind {
		case "add":
			if exists {
				return "", fmt.Errorf("%s already exists; use *** Update File", op.path)
			}
			c := strings.Join(op.lines, "\n") + "\n"
			results, pending[p] = append(results, result{p, &c}), &c
		case "delete":
			if !exists {
				return "", fmt.Errorf("%s does not exist", op.path)
			}
			results, pending[p] = append(results, result{p, nil}), nil
		case "update":
			if !exists {
				return "", fmt.Errorf("%s does not exist; use *** Add File", op.path)
			}
			c, err := applyHunks(content, op.hunks)
			if err != nil {
				return "", fmt.Errorf("%s: %w", op.path, err)
			}
			results, pending[p] = append(results, result{p, &c}), &c
		}
	}
	// Everything applies: now write, each file through a rename.
	var summary []string
	for _, r := range results {
		rel, _ := filepath.Rel(root, r.path)
		if r.content == nil {
			if err := os.Remove(r.path); err != nil {
				return "", err
			}
			summary = append(summary, "D "+rel)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
			return "", err
		}
		tmp := r.path + ".tern-patch"
		mode := os.FileMode(0o644)
		if st, err := os.Stat(r.path); err == nil {
			mode = st.Mode().Perm()
			summary = append(summary, "M "+rel)
		} else {
			summary = append(summary, "A "+rel)
		}
		if err := os.WriteFile(tmp, []byte(*r.content), mode); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, r.path); err != nil {
			os.Remove(tmp)
			return "", err
		}
	}
	return strings.Join(summary, "\n"), nil
}

func applyHunks(content string, hunks []hunk) (string, error) {
	trailing := strings.HasSuffix(content, "\n")
	lines := strings.Split(strings.TrimSuffix(content, "\n"), "\n")
	from := 0
	for n, h := range hunks {
		at := find(lines, h.old, from)
		if at < 0 {
			return "", fmt.Errorf("hunk %d does not apply: its context and removed lines are not in the file (from line %d on)", n+1, from+1)
		}
		lines = append(lines[:at], append(append([]string{}, h.new...), lines[at+len(h.old):]...)...)
		from = at + len(h.new)
	}
	out := strings.Join(lines, "\n")
	if trailing {
		out += "\n"
	}
	return out, nil
}

func find(lines, want []string, from int) int {
	if len(want) == 0 {
		return from
	}
	for i := from; i+len(want) <= len(lines); i++ {
		match := true
		for j := range want {
			if lines[i+j] != want[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}
