package backupmeta

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
)

// MaxDepth bounds how deep meta files may point to further meta files. BR writes one level
// (file_index → data-file indexes); the bound only stops a corrupt or hostile index from
// sending Read down an endless chain.
const MaxDepth = 8

// Summary is what the backup-manager records about a backup.
type Summary struct {
	StartVersion uint64
	EndVersion   uint64
	// Size is the sum of the size of every data file, in bytes (status.backupSize).
	Size uint64
	// Files counts the data files.
	Files int
	// Version is the backupmeta layout version BR wrote.
	Version int32
	// MetaFiles counts the meta file objects read besides backupmeta.
	MetaFiles int
	// MetaSize is the bytes of backupmeta and of those meta files. v1.6 counted the encoded
	// backupmeta into backupSize (util.GetBRArchiveSize); Size+MetaSize comes closest to that.
	MetaSize uint64
}

// Read reads FileName through get, follows the v2 layout's meta files (objects under the same
// prefix, read through get as well) and sums the data files' size. get returns an object's
// content by its name relative to the backup's prefix; its errors are wrapped, so a missing
// backupmeta can be told apart with errors.Is.
func Read(ctx context.Context, get func(ctx context.Context, name string) ([]byte, error)) (Summary, error) {
	data, err := get(ctx, FileName)
	if err != nil {
		return Summary{}, fmt.Errorf("read %s: %w", FileName, err)
	}
	m, err := Decode(data)
	if err != nil {
		return Summary{}, fmt.Errorf("decode %s: %w", FileName, err)
	}
	s := Summary{
		StartVersion: m.StartVersion,
		EndVersion:   m.EndVersion,
		Version:      m.Version,
		MetaSize:     uint64(len(data)),
	}
	s.addDataFiles(m.Files)
	if m.FileIndex != nil {
		w := walker{get: get, seen: map[string]bool{}, s: &s}
		if err := w.walk(ctx, m.FileIndex, 0, FileName+" file_index"); err != nil {
			return Summary{}, err
		}
	}
	return s, nil
}

type walker struct {
	get  func(ctx context.Context, name string) ([]byte, error)
	seen map[string]bool
	s    *Summary
}

// walk counts mf's data files and descends into its meta files; depth is how many meta file
// objects lie between backupmeta and mf.
func (w *walker) walk(ctx context.Context, mf *MetaFile, depth int, from string) error {
	w.s.addDataFiles(mf.DataFiles)
	for _, ref := range mf.MetaFiles {
		if depth >= MaxDepth {
			return fmt.Errorf("%w: meta file %q (in %s) is nested deeper than %d levels", ErrCorrupt, ref.Name, from, MaxDepth)
		}
		if err := checkName(ref.Name); err != nil {
			return fmt.Errorf("%w: meta file in %s: %w", ErrCorrupt, from, err)
		}
		if w.seen[ref.Name] {
			// BR names each meta file once; a second reference is a cycle or a damaged index,
			// and following it would count its data twice.
			return fmt.Errorf("%w: meta file %q is referenced twice (again in %s)", ErrCorrupt, ref.Name, from)
		}
		w.seen[ref.Name] = true
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read meta file %q: %w", ref.Name, err)
		}
		data, err := w.get(ctx, ref.Name)
		if err != nil {
			return fmt.Errorf("read meta file %q (listed in %s): %w", ref.Name, from, err)
		}
		// BR records the SHA-256 of the plain content; a mismatch means a damaged object or
		// an encrypted backup, whose content would decode as garbage.
		if len(ref.SHA256) == sha256.Size {
			if sum := sha256.Sum256(data); !bytes.Equal(sum[:], ref.SHA256) {
				return fmt.Errorf("%w: meta file %q does not match its SHA-256 (damaged, or an encrypted backup)", ErrCorrupt, ref.Name)
			}
		}
		child, err := DecodeMetaFile(data)
		if err != nil {
			return fmt.Errorf("decode meta file %q: %w", ref.Name, err)
		}
		w.s.MetaFiles++
		w.s.MetaSize = addSat(w.s.MetaSize, uint64(len(data)))
		if err := w.walk(ctx, child, depth+1, fmt.Sprintf("meta file %q", ref.Name)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Summary) addDataFiles(files []File) {
	for _, f := range files {
		s.Size = addSat(s.Size, f.Size)
	}
	s.Files += len(files)
}

// addSat adds without wrapping around: a corrupt size must not turn into a small one.
func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// checkName refuses meta file names that could reach outside the backup's prefix.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty name")
	case strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00"):
		return fmt.Errorf("name %q is not a relative object name", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." || seg == "." || seg == "" {
			return fmt.Errorf("name %q has a %q path segment", name, seg)
		}
	}
	return nil
}
