package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// FileStore appends JSON lines to a local file, synced on every write, and
// the head record to a second file beside it (Path + ".head"), one line per
// entry, the last one in force: appending, unlike replacing a file, needs
// no rename to survive a crash (and this package may not import
// internal/base/atomicfile). One process owns the files.
type FileStore struct {
	Path string

	mu   sync.Mutex
	tip  *tip
	size int64 // the file's size after this process's last write
}

// HeadPath is where the head record is kept.
func (f *FileStore) HeadPath() string { return f.Path + ".head" }

// Append implements Store.
func (f *FileStore) Append(_ context.Context, e Entry, when Condition) (Entry, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.load(); err != nil {
		return Entry{}, false, err
	}
	sealed, ok := f.tip.next(e, when)
	if !ok {
		return Entry{}, false, nil
	}
	line, err := json.Marshal(sealed)
	if err != nil {
		return Entry{}, false, err
	}
	n, err := appendLine(f.Path, append(line, '\n'))
	f.size += n
	if err != nil {
		return Entry{}, false, fmt.Errorf("audit log: %w", err)
	}
	// The entry is in the file: the chain goes on from it even if the head
	// cannot be written (load adopts an entry one past the head).
	f.tip.advance(sealed)
	head, _ := json.Marshal(sealed.head())
	if _, err := appendLine(f.HeadPath(), append(head, '\n')); err != nil {
		return Entry{}, false, fmt.Errorf("audit head: %w", err)
	}
	return sealed, true, nil
}

// appendLine appends line to path and syncs it; it returns how many bytes
// it wrote.
func appendLine(path string, line []byte) (int64, error) {
	_, statErr := os.Stat(path)
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	n, err := file.Write(line)
	if err == nil {
		err = file.Sync()
	}
	if err == nil && errors.Is(statErr, fs.ErrNotExist) {
		// A new file's name must survive a crash too: sync its directory.
		var dir *os.File
		if dir, err = os.Open(filepath.Dir(path)); err == nil {
			err = dir.Sync()
			dir.Close()
		}
	}
	return int64(n), err
}

// load reads the chain's tip from the file, unless this process wrote the
// file last (its size is the one it left).
func (f *FileStore) load() error {
	st, err := os.Stat(f.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st = nil
	case err != nil:
		return fmt.Errorf("reading audit log: %w", err)
	}
	if f.tip != nil && ((st == nil && f.size == 0) || (st != nil && st.Size() == f.size)) {
		return nil
	}
	// Both files are read as read and Head read them: a whole entry
	// stands without its newline, a head record does not. The head file's
	// last line can be cut by a crash after its entry was written.
	if err := endLastLine(f.Path, &Entry{}); err != nil {
		return err
	}
	if err := endLastLine(f.HeadPath(), nil); err != nil {
		return err
	}
	entries, size, err := f.read()
	if err != nil {
		return err
	}
	head, err := f.Head(context.Background())
	if err != nil {
		return err
	}
	t := newTip()
	var last Entry
	for _, e := range entries {
		t.advance(e)
		if e.chained() {
			last = e
		}
	}
	// The head record is authoritative: if entries at the end were removed
	// or edited, the next one chains after what the head says, so the gap
	// stays visible. Only an entry written just before a crash, one past
	// the head, is adopted.
	if head.Seq != 0 && !(last.Seq == head.Seq+1 && last.Prev == head.Hash && last.Hash == last.Digest()) {
		t.head = head
	}
	f.tip, f.size = t, size
	return nil
}

// endLastLine makes path end with a whole line: a crash can cut a write
// short. A last line that decodes into v (when v is not nil) lost only its
// newline, which it gets back: its record stands. Any other never became a
// record (its write was not acknowledged) and is dropped. Either way the
// next line starts on a line of its own instead of being glued to it.
func endLastLine(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || len(data) == 0 || data[len(data)-1] == '\n' {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	cut := bytes.LastIndexByte(data, '\n') + 1
	if v != nil && json.Unmarshal(data[cut:], v) == nil {
		if _, err := appendLine(path, []byte("\n")); err != nil {
			return fmt.Errorf("ending the last line of %s: %w", path, err)
		}
		return nil
	}
	if err := os.Truncate(path, int64(cut)); err != nil {
		return fmt.Errorf("dropping a torn line of %s: %w", path, err)
	}
	return nil
}

// read returns the file's entries and size; lines that are not entries are
// left out (Verify sees the gap they leave).
func (f *FileStore) read() ([]Entry, int64, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Entry{}, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading audit log: %w", err)
	}
	out := []Entry{}
	for line := range bytes.Lines(data) {
		var e Entry
		if json.Unmarshal(line, &e) == nil {
			out = append(out, e)
		}
	}
	return out, int64(len(data)), nil
}

// List implements Store.
func (f *FileStore) List(context.Context) ([]Entry, error) {
	entries, _, err := f.read()
	return entries, err
}

// Head implements Store: the last whole line of the head file.
func (f *FileStore) Head(context.Context) (Head, error) {
	data, err := os.ReadFile(f.HeadPath())
	if errors.Is(err, fs.ErrNotExist) {
		return Head{}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("reading audit head: %w", err)
	}
	var h Head
	for line := range bytes.Lines(data) {
		var next Head
		if bytes.HasSuffix(line, []byte("\n")) && json.Unmarshal(line, &next) == nil {
			h = next
		}
	}
	return h, nil
}
