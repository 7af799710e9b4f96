package tools

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// A hunk's context and removed lines must appear exactly once in the file
// after the previous hunk; a hunk that matches in more places is refused,
// and the model is asked for more context lines. Text after "@@" is not
// used to place a hunk. Every operation is worked out in memory first;
// files are written only when all apply, and put back if a write fails
// part way (see commit), so a patch applies completely or not at all.

// opKind is what a patch operation does to its file.
type opKind string

const (
	opAdd    opKind = "add"    // *** Add File: the file must not exist
	opDelete opKind = "delete" // *** Delete File: the file must exist
	opUpdate opKind = "update" // *** Update File: hunks apply to the file
)

type patchOp struct {
	kind  opKind
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
			ops = append(ops, patchOp{kind: opAdd, path: strings.TrimSpace(strings.TrimPrefix(l, "*** Add File: "))})
			cur = &ops[len(ops)-1]
		case strings.HasPrefix(l, "*** Delete File: "):
			ops = append(ops, patchOp{kind: opDelete, path: strings.TrimSpace(strings.TrimPrefix(l, "*** Delete File: "))})
			cur = &ops[len(ops)-1]
		case strings.HasPrefix(l, "*** Update File: "):
			ops = append(ops, patchOp{kind: opUpdate, path: strings.TrimSpace(strings.TrimPrefix(l, "*** Update File: "))})
			cur = &ops[len(ops)-1]
		case cur == nil:
			return nil, fmt.Errorf("line %d: %q comes before any *** Add/Delete/Update File line", i+2, l)
		case cur.kind == opAdd:
			if !strings.HasPrefix(l, "+") {
				return nil, fmt.Errorf("line %d: every line of an added file starts with +", i+2)
			}
			cur.lines = append(cur.lines, l[1:])
		case cur.kind == opUpdate && strings.HasPrefix(l, "@@"):
			cur.hunks = append(cur.hunks, hunk{})
		case cur.kind == opUpdate:
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

// A change is what a patch does to one file, worked out in memory.
type change struct {
	name    string // as the patch names it, relative to the workspace
	target  string // the file written: name, or the file a symlink at name points to
	existed bool
	mode    fs.FileMode // of the file that existed
	content *string     // what the file becomes; nil: deleted (or never there)

	// Set while committing. Every write goes through dir, the directory
	// target is in, opened once and checked (refuseProtected); the names
	// below are relative to it.
	dir    *os.Root
	base   string // target's name in dir
	tmp    string // the new content, beside target
	backup string // the old file, beside target, until the patch is complete
	linked bool   // backup is a hard link made before any rename
	moved  bool   // target was renamed to backup
	placed bool   // tmp was renamed to target
}

// ApplyPatch applies a patch inside the workspace, all or nothing, and
// returns a summary of what changed.
func ApplyPatch(workspace, text string) (string, error) {
	ops, err := parsePatch(text)
	if err != nil {
		return "", err
	}
	root, err := openWorkspace(workspace)
	if err != nil {
		return "", err
	}
	defer root.Close()
	changes, err := planChanges(root, workspace, ops)
	if err != nil {
		return "", err
	}
	if err := commit(root, workspace, changes); err != nil {
		return "", err
	}
	var summary []string
	for _, c := range changes {
		switch {
		case c.existed && c.content == nil:
			summary = append(summary, "D "+c.name)
		case c.existed:
			summary = append(summary, "M "+c.name)
		case c.content != nil:
			summary = append(summary, "A "+c.name)
		}
	}
	return strings.Join(summary, "\n"), nil
}

// planChanges works every operation out in memory, reading each file
// once; operations on the same file apply in turn.
func planChanges(root *os.Root, workspace string, ops []patchOp) ([]*change, error) {
	var changes []*change
	byTarget := map[string]*change{}
	for _, op := range ops {
		name, err := localName(workspace, op.path)
		if err != nil {
			return nil, err
		}
		if name == "." {
			return nil, fmt.Errorf("%q names the workspace itself, not a file", op.path)
		}
		target := name
		// A delete removes a link, not what it names. Once an earlier
		// operation of this patch holds the name itself (a deleted link),
		// the name means that file, not what is on disk.
		if _, held := byTarget[name]; op.kind != opDelete && !held {
			if target, err = resolveLinks(root, workspace, name); err != nil {
				return nil, err
			}
		}
		c := byTarget[target]
		if c == nil {
			c = &change{name: name, target: target}
			if err := c.load(root, workspace, op.kind == opDelete); err != nil {
				return nil, err
			}
			byTarget[target] = c
			changes = append(changes, c)
		}
		exists := c.content != nil
		switch op.kind {
		case opAdd:
			if exists {
				return nil, fmt.Errorf("%s already exists; use *** Update File", op.path)
			}
			content := strings.Join(op.lines, "\n") + "\n"
			c.content = &content
		case opDelete:
			if !exists {
				return nil, fmt.Errorf("%s does not exist", op.path)
			}
			c.content = nil
		case opUpdate:
			if !exists {
				return nil, fmt.Errorf("%s does not exist; use *** Add File", op.path)
			}
			content, err := applyHunks(*c.content, op.hunks)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op.path, err)
			}
			c.content = &content
		}
	}
	return changes, nil
}

// load reads what is at c.target now. A file only deleted is not read.
func (c *change) load(root *os.Root, workspace string, deleting bool) error {
	st, err := root.Lstat(c.target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return explain(workspace, c.name, err)
	case st.IsDir():
		return fmt.Errorf("%s is a directory; a patch changes files", c.name)
	case deleting && st.Mode()&fs.ModeSymlink != 0:
		c.existed, c.mode, c.content = true, 0o644, new(string) // the mode, should an Add follow
		return nil
	case deleting && st.Mode().IsRegular():
		c.existed, c.mode, c.content = true, st.Mode().Perm(), new(string)
		return nil
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s); a patch changes regular files", c.name, st.Mode().Type())
	}
	f, err := openRegular(root, workspace, c.target)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", c.name, err)
	}
	content := string(b)
	c.existed, c.mode, c.content = true, st.Mode().Perm(), &content
	return nil
}

// beforeRename is a test seam: it can fail a commit's rename on purpose.
var beforeRename = func(target string) error { return nil }

// commit writes the changes so that the patch applies completely or not
// at all. First everything that can fail slowly is staged beside each
// file: new directories, each new content in a temporary, a hard link
// keeping each old file. Then only renames are left, one per file; if one
// fails, the files already renamed are put back from their backups.
func commit(root *os.Root, workspace string, changes []*change) (err error) {
	var dirs []string // made by this patch, removed again if it fails
	defer func() {
		if err != nil {
			err = rollback(root, changes, dirs, err)
		}
		for _, c := range changes {
			if c.dir != nil {
				c.dir.Close()
			}
		}
	}()
	protected := protectedPaths(workspace)
	for _, c := range changes {
		if c.content == nil && !c.existed {
			continue
		}
		dirName := filepath.Dir(c.target)
		if c.content != nil {
			made, err := mkdirs(root, dirName, func(parent *os.Root, parentName, base string) error {
				return refuseProtected(parent, parentName, base, c.name, workspace, protected)
			})
			dirs = append(dirs, made...)
			if err != nil {
				return explain(workspace, c.name, err)
			}
		}
		if c.dir, err = root.OpenRoot(dirName); err != nil {
			return explain(workspace, c.name, err)
		}
		c.base = filepath.Base(c.target)
		if err := refuseProtected(c.dir, dirName, c.base, c.name, workspace, protected); err != nil {
			return err
		}
		if c.content != nil {
			mode, exact := c.mode, c.existed
			if !c.existed {
				mode = 0o644
			}
			if c.tmp, err = writeNew(c.dir, c.base, "tern-patch", *c.content, mode, exact); err != nil {
				return fmt.Errorf("writing %s: %w", c.name, explain(workspace, c.name, err))
			}
		}
		if c.existed {
			c.backup = "." + c.base + ".tern-backup-" + randomHex()
			// A link keeps the target in place until the rename replaces
			// it. Not for a delete: renaming a file onto another link of
			// itself does nothing.
			c.linked = c.content != nil && c.dir.Link(c.base, c.backup) == nil
		}
	}
	for _, c := range changes {
		if c.content == nil && !c.existed {
			continue
		}
		if err := beforeRename(c.target); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if c.existed && !c.linked {
			if err := c.dir.Rename(c.base, c.backup); err != nil {
				return fmt.Errorf("%s: %w", c.name, explain(workspace, c.name, err))
			}
			c.moved = true
		}
		if c.content != nil {
			if err := c.dir.Rename(c.tmp, c.base); err != nil {
				return fmt.Errorf("%s: %w", c.name, explain(workspace, c.name, err))
			}
			c.placed = true
		}
	}
	for _, c := range changes {
		if c.backup != "" {
			c.dir.Remove(c.backup) // the old file: a leftover is harmless
		}
	}
	return nil
}

// rollback puts every file back as it was and removes what the patch
// made. It reports any file it could not restore: then the workspace is
// not as it was, and the person must know.
func rollback(root *os.Root, changes []*change, dirs []string, cause error) error {
	var stuck []string
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		if c.dir == nil {
			continue // nothing was staged for it
		}
		switch {
		case c.existed && (c.placed || c.moved):
			if err := c.dir.Rename(c.backup, c.base); err != nil {
				stuck = append(stuck, fmt.Sprintf("%s (its old content is in %s)", c.name, filepath.Join(filepath.Dir(c.target), c.backup)))
			}
		case c.placed:
			if err := c.dir.Remove(c.base); err != nil {
				stuck = append(stuck, c.name+" (added)")
			}
		case c.linked:
			c.dir.Remove(c.backup)
		}
		if c.tmp != "" && !c.placed {
			c.dir.Remove(c.tmp)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		root.Remove(dirs[i])
	}
	if len(stuck) > 0 {
		return fmt.Errorf("the patch failed (%w) and these files could not be restored: %s", cause, strings.Join(stuck, ", "))
	}
	return fmt.Errorf("the patch failed and nothing was changed: %w", cause)
}

// mkdirs makes dir and its missing parents, and returns the ones it made.
// Each is made through its parent, opened and checked first (allowed), so
// that no directory appears in .git either.
func mkdirs(root *os.Root, dir string, allowed func(parent *os.Root, parentName, base string) error) ([]string, error) {
	if dir == "." {
		return nil, nil
	}
	made, err := mkdirs(root, filepath.Dir(dir), allowed)
	if err != nil {
		return made, err
	}
	parent, err := root.OpenRoot(filepath.Dir(dir))
	if err != nil {
		return made, err
	}
	defer parent.Close()
	if err := allowed(parent, filepath.Dir(dir), filepath.Base(dir)); err != nil {
		return made, err
	}
	switch err := parent.Mkdir(filepath.Base(dir), 0o755); {
	case err == nil:
		return append(made, dir), nil
	case errors.Is(err, fs.ErrExist):
		return made, nil
	default:
		return made, err
	}
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
		if len(h.old) > 0 {
			places := []string{fmt.Sprint(at + 1)}
			for again := find(lines, h.old, at+1); again >= 0; again = find(lines, h.old, again+1) {
				places = append(places, fmt.Sprint(again+1))
			}
			if len(places) > 1 {
				last := len(places) - 1
				return "", fmt.Errorf("hunk %d matches %d places (lines %s and %s); add context lines around the change until it matches only one",
					n+1, len(places), strings.Join(places[:last], ", "), places[last])
			}
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
