// Package atomicfile replaces a file so that readers, and the disk after a crash, hold the old content or the new, never part of either.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data, which ends up with exactly perm (the
// umask does not apply). The data goes to a temporary file with a unique
// name in the same directory (a rename is atomic only within one file
// system, and a fixed name would let two writers clobber each other's
// temporary file), is synced, and is renamed over path; then the directory
// is synced so the rename itself survives a crash. On any failure the
// temporary file is removed and path is left as it was.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := writeAndClose(tmp, data, perm); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		// The new content is in place; only its durability is in doubt.
		return fmt.Errorf("replacing %s: syncing its directory: %w", path, err)
	}
	return nil
}

// writeAndClose fills f, gives it perm, syncs and closes it; f is closed
// whatever happens.
func writeAndClose(f *os.File, data []byte, perm os.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
