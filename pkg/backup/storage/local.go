package storage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// localBucket is a directory on a mounted volume: Bucket is the mount path and objects are the
// files under Bucket/Prefix. Every file operation goes through an os.Root opened on the prefix,
// so no key and no symbolic link can reach outside it.
type localBucket struct {
	loc Location
}

func openLocal(l Location) (*localBucket, error) {
	if !filepath.IsAbs(l.Bucket) {
		return nil, fmt.Errorf("open %s: the mount path %q is not absolute", l.Redacted(), l.Bucket)
	}
	return &localBucket{loc: l}, nil
}

// openPrefix opens the prefix directory, creating it first when create is set. The mount path
// must exist: a missing volume is an error even for Put, or a backup would be written into the
// container's own file system. A symbolic link in the prefix is refused, because it would make
// the prefix another directory of the volume than the one BR's URL names.
func (b *localBucket) openPrefix(create bool) (*os.Root, error) {
	mount, err := os.OpenRoot(b.loc.Bucket)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: the mount path %s does not exist: %w", ErrBucketNotFound, b.loc.Bucket, err)
		}
		return nil, err
	}
	defer func() { _ = mount.Close() }()
	prefix := b.loc.Prefix
	if prefix == "" {
		prefix = "."
	}
	if create {
		if err := mount.MkdirAll(prefix, 0o755); err != nil {
			return nil, err
		}
	}
	if err := noSymlinks(mount, prefix); err != nil {
		return nil, err
	}
	return mount.OpenRoot(prefix)
}

func noSymlinks(mount *os.Root, prefix string) error {
	for p := prefix; p != "." && p != "/"; p = path.Dir(p) {
		fi, err := mount.Lstat(p)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s is a symbolic link", ErrUnsafePrefix, path.Join(mount.Name(), p))
		}
	}
	return nil
}

// List walks the whole prefix and sorts the keys, so pages follow key order like an object
// store's, and the cursor is simply the last key returned.
func (b *localBucket) List(ctx context.Context, cursor string, pageSize int) ([]Object, string, error) {
	root, err := b.openPrefix(false)
	if errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrBucketNotFound) {
		return nil, "", nil // no folder, no objects
	}
	if err != nil {
		return nil, "", b.fail("list files in", err)
	}
	defer func() { _ = root.Close() }()
	objs, err := walkAfter(ctx, root, cursor)
	if err != nil {
		return nil, "", b.fail("list files in", err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	if pageSize <= 0 || len(objs) <= pageSize {
		return objs, "", nil
	}
	return objs[:pageSize], objs[pageSize-1].Key, nil
}

// walkAfter returns every file (anything but a directory, symbolic links included, never
// followed) whose key sorts after cursor, skipping directories that hold only earlier keys.
func walkAfter(ctx context.Context, root *os.Root, cursor string) ([]Object, error) {
	var objs []Object
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != "." && errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while walking
			}
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if d.IsDir() {
			if p != "." && cursor > p+"/" && !strings.HasPrefix(cursor, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if p <= cursor {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		objs = append(objs, Object{Key: p, Size: info.Size()})
		return nil
	})
	return objs, err
}

func (b *localBucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkLocalKey(key); err != nil {
		return nil, b.fail("get "+key+" from", err)
	}
	root, err := b.openPrefix(false)
	if err != nil {
		return nil, b.fail("get "+key+" from", err)
	}
	defer func() { _ = root.Close() }()
	data, err := root.ReadFile(key)
	if err != nil {
		return nil, b.fail("get "+key+" from", err)
	}
	return data, nil
}

// Put writes to a temporary file and renames it, so a reader never sees half an object.
func (b *localBucket) Put(ctx context.Context, key string, data []byte) error {
	if err := checkLocalKey(key); err != nil {
		return b.fail("put "+key+" to", err)
	}
	root, err := b.openPrefix(true)
	if err != nil {
		return b.fail("put "+key+" to", err)
	}
	defer func() { _ = root.Close() }()
	if dir := path.Dir(key); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return b.fail("put "+key+" to", err)
		}
	}
	tmp := key + ".tmp-" + rand.Text()[:8] // unique, so concurrent puts of one key do not collide
	if err := root.WriteFile(tmp, data, 0o644); err != nil {
		return b.fail("put "+key+" to", err)
	}
	if err := root.Rename(tmp, key); err != nil {
		_ = root.Remove(tmp)
		return b.fail("put "+key+" to", err)
	}
	return nil
}

// Delete removes the files (a symbolic link itself, never its target), then each directory
// they leave empty up to, but not including, the prefix.
func (b *localBucket) Delete(ctx context.Context, keys []string) error {
	root, err := b.openPrefix(false)
	if errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrBucketNotFound) {
		return nil // nothing left to delete
	}
	if err != nil {
		return b.fail("delete files in", err)
	}
	defer func() { _ = root.Close() }()
	return deleteEach(ctx, keys, func(ctx context.Context, key string) error {
		if err := checkLocalKey(key); err != nil {
			return b.fail("delete "+key+" from", err)
		}
		if err := root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return b.fail("delete "+key+" from", err)
		}
		removeEmptyParents(root, key)
		return nil
	})
}

// removeEmptyParents removes the key's directories while they are empty. A directory another
// key still uses fails to be removed, which ends the climb; one removed meanwhile by a
// concurrent delete does not.
func removeEmptyParents(root *os.Root, key string) {
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if err := root.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
}

// checkLocalKey refuses keys that are not plain relative paths; os.Root would refuse those
// reaching outside the prefix anyway, this makes the message clear.
func checkLocalKey(key string) error {
	if !fs.ValidPath(key) || key == "." {
		return fmt.Errorf("%w: key %q is not a relative path inside the prefix", ErrUnsafePrefix, key)
	}
	return nil
}

func (b *localBucket) MaxDeleteBatch() int { return 1 }
func (b *localBucket) CredentialSource() string {
	return "the Pod's file system permissions on " + b.loc.Bucket
}
func (b *localBucket) Location() Location { return b.loc }
func (b *localBucket) Close() error       { return nil }

func (b *localBucket) fail(op string, err error) error {
	var kind error
	switch {
	case errors.Is(err, ErrBucketNotFound), errors.Is(err, ErrUnsafePrefix):
		// already marked
	case errors.Is(err, fs.ErrNotExist):
		kind = ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		kind = ErrCredentials
	}
	return storeError(op, b.loc, b.CredentialSource(), kind, err)
}
