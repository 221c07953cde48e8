package backupmeta

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// FileName is the object BR writes at the root of a backup's prefix.
const FileName = "backupmeta"

// ErrCorrupt marks input that is not a well-formed backupmeta or meta file. Truncated input
// also matches io.ErrUnexpectedEOF.
var ErrCorrupt = errors.New("corrupt backupmeta")

// File is a file of the backup (backup.File): a data file (SST) or, in MetaFile.MetaFiles, a
// further meta file.
type File struct {
	Name         string
	SHA256       []byte
	StartVersion uint64
	EndVersion   uint64
	TotalKVs     uint64
	TotalBytes   uint64
	CF           string
	// Size is the file's size on the storage, in bytes.
	Size uint64
}

// Meta is the part of backup.BackupMeta the backup-manager uses.
type Meta struct {
	ClusterID      uint64
	ClusterVersion string
	BRVersion      string
	StartVersion   uint64
	// EndVersion is a snapshot backup's commit TS.
	EndVersion uint64
	IsRawKV    bool
	// Version is the layout version BR wrote (field version).
	Version      int32
	BackupResult string
	// Files are the data files of the v1 layout.
	Files []File
	// FileIndex is the index of data files of the v2 layout; nil in v1.
	FileIndex *MetaFile
}

// MetaFile is backup.MetaFile: data files, and further meta files to read (objects under the
// same prefix, themselves MetaFile-encoded).
type MetaFile struct {
	MetaFiles []File
	DataFiles []File
}

// Field numbers of kvproto brpb.proto.
const (
	metaClusterID      protowire.Number = 1
	metaClusterVersion protowire.Number = 2
	metaFiles          protowire.Number = 4
	metaStartVersion   protowire.Number = 5
	metaEndVersion     protowire.Number = 6
	metaIsRawKV        protowire.Number = 8
	metaBRVersion      protowire.Number = 11
	metaVersion        protowire.Number = 12
	metaFileIndex      protowire.Number = 13
	metaBackupResult   protowire.Number = 17

	fileName         protowire.Number = 1
	fileSHA256       protowire.Number = 2
	fileStartVersion protowire.Number = 5
	fileEndVersion   protowire.Number = 6
	fileTotalKVs     protowire.Number = 8
	fileTotalBytes   protowire.Number = 9
	fileCF           protowire.Number = 10
	fileSize         protowire.Number = 11

	metaFileMetaFiles protowire.Number = 1
	metaFileDataFiles protowire.Number = 2
)

// Decode parses a backupmeta. Unknown fields, and known fields of an unexpected wire type, are
// skipped as protobuf parsers do; a repeated file_index is merged.
func Decode(data []byte) (*Meta, error) {
	m := &Meta{}
	d := decoder{b: data, what: "backupmeta"}
	for d.more() {
		num, typ, err := d.tag()
		if err != nil {
			return nil, err
		}
		switch {
		case num == metaClusterID && typ == protowire.VarintType:
			m.ClusterID, err = d.varint(num)
		case num == metaClusterVersion && typ == protowire.BytesType:
			m.ClusterVersion, err = d.string(num)
		case num == metaFiles && typ == protowire.BytesType:
			var f File
			f, err = d.file(num, "files")
			m.Files = append(m.Files, f)
		case num == metaStartVersion && typ == protowire.VarintType:
			m.StartVersion, err = d.varint(num)
		case num == metaEndVersion && typ == protowire.VarintType:
			m.EndVersion, err = d.varint(num)
		case num == metaIsRawKV && typ == protowire.VarintType:
			var v uint64
			v, err = d.varint(num)
			m.IsRawKV = protowire.DecodeBool(v)
		case num == metaBRVersion && typ == protowire.BytesType:
			m.BRVersion, err = d.string(num)
		case num == metaVersion && typ == protowire.VarintType:
			var v uint64
			v, err = d.varint(num)
			m.Version = int32(v) // int32 travels sign-extended; the low 32 bits are the value
		case num == metaFileIndex && typ == protowire.BytesType:
			var b []byte
			if b, err = d.bytes(num); err == nil {
				if m.FileIndex == nil {
					m.FileIndex = &MetaFile{}
				}
				if err = decodeMetaFileInto(m.FileIndex, b, "backupmeta file_index"); err != nil {
					err = fmt.Errorf("backupmeta field %d (file_index) at byte %d: %w", num, d.last, err)
				}
			}
		case num == metaBackupResult && typ == protowire.BytesType:
			m.BackupResult, err = d.string(num)
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// DecodeMetaFile parses a meta file (backup.MetaFile).
func DecodeMetaFile(data []byte) (*MetaFile, error) {
	mf := &MetaFile{}
	if err := decodeMetaFileInto(mf, data, "meta file"); err != nil {
		return nil, err
	}
	return mf, nil
}

func decodeMetaFileInto(mf *MetaFile, data []byte, what string) error {
	d := decoder{b: data, what: what}
	for d.more() {
		num, typ, err := d.tag()
		if err != nil {
			return err
		}
		switch {
		case num == metaFileMetaFiles && typ == protowire.BytesType:
			var f File
			f, err = d.file(num, "meta_files")
			mf.MetaFiles = append(mf.MetaFiles, f)
		case num == metaFileDataFiles && typ == protowire.BytesType:
			var f File
			f, err = d.file(num, "data_files")
			mf.DataFiles = append(mf.DataFiles, f)
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func decodeFile(data []byte) (File, error) {
	var f File
	d := decoder{b: data, what: "file"}
	for d.more() {
		num, typ, err := d.tag()
		if err != nil {
			return File{}, err
		}
		switch {
		case num == fileName && typ == protowire.BytesType:
			f.Name, err = d.string(num)
		case num == fileSHA256 && typ == protowire.BytesType:
			var b []byte
			if b, err = d.bytes(num); err == nil && len(b) > 0 {
				f.SHA256 = append([]byte(nil), b...) // never alias the caller's buffer
			}
		case num == fileStartVersion && typ == protowire.VarintType:
			f.StartVersion, err = d.varint(num)
		case num == fileEndVersion && typ == protowire.VarintType:
			f.EndVersion, err = d.varint(num)
		case num == fileTotalKVs && typ == protowire.VarintType:
			f.TotalKVs, err = d.varint(num)
		case num == fileTotalBytes && typ == protowire.VarintType:
			f.TotalBytes, err = d.varint(num)
		case num == fileCF && typ == protowire.BytesType:
			f.CF, err = d.string(num)
		case num == fileSize && typ == protowire.VarintType:
			f.Size, err = d.varint(num)
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			return File{}, err
		}
	}
	return f, nil
}

// decoder walks the fields of one message, turning protowire's negative lengths into errors
// that say where the input broke.
type decoder struct {
	b    []byte
	off  int // offset of b in the message
	last int // offset of the last field's tag
	what string
}

func (d *decoder) more() bool { return len(d.b) > 0 }

func (d *decoder) advance(n int) {
	d.b = d.b[n:]
	d.off += n
}

func (d *decoder) tag() (protowire.Number, protowire.Type, error) {
	d.last = d.off
	num, typ, n := protowire.ConsumeTag(d.b)
	if n < 0 {
		return 0, 0, fmt.Errorf("%w: %s: field tag at byte %d: %w", ErrCorrupt, d.what, d.off, protowire.ParseError(n))
	}
	d.advance(n)
	return num, typ, nil
}

func (d *decoder) fail(num protowire.Number, n int) error {
	return fmt.Errorf("%w: %s: field %d at byte %d: %w", ErrCorrupt, d.what, num, d.last, protowire.ParseError(n))
}

func (d *decoder) varint(num protowire.Number) (uint64, error) {
	v, n := protowire.ConsumeVarint(d.b)
	if n < 0 {
		return 0, d.fail(num, n)
	}
	d.advance(n)
	return v, nil
}

func (d *decoder) bytes(num protowire.Number) ([]byte, error) {
	v, n := protowire.ConsumeBytes(d.b)
	if n < 0 {
		return nil, d.fail(num, n)
	}
	d.advance(n)
	return v, nil
}

func (d *decoder) string(num protowire.Number) (string, error) {
	b, err := d.bytes(num)
	return string(b), err
}

func (d *decoder) file(num protowire.Number, name string) (File, error) {
	b, err := d.bytes(num)
	if err != nil {
		return File{}, err
	}
	f, err := decodeFile(b)
	if err != nil {
		return File{}, fmt.Errorf("%s field %d (%s) at byte %d: %w", d.what, num, name, d.last, err)
	}
	return f, nil
}

func (d *decoder) skip(num protowire.Number, typ protowire.Type) error {
	n := protowire.ConsumeFieldValue(num, typ, d.b)
	if n < 0 {
		return d.fail(num, n)
	}
	d.advance(n)
	return nil
}

// Encode writes m in BR's wire format, fields in number order and, as proto3 does, zero scalars
// left out. A non-nil FileIndex is written even when empty, so that Decode gives it back.
func Encode(m *Meta) []byte {
	if m == nil {
		return nil
	}
	var b []byte
	b = appendVarint(b, metaClusterID, m.ClusterID)
	b = appendString(b, metaClusterVersion, m.ClusterVersion)
	for i := range m.Files {
		b = protowire.AppendTag(b, metaFiles, protowire.BytesType)
		b = protowire.AppendBytes(b, encodeFile(&m.Files[i]))
	}
	b = appendVarint(b, metaStartVersion, m.StartVersion)
	b = appendVarint(b, metaEndVersion, m.EndVersion)
	if m.IsRawKV {
		b = appendVarint(b, metaIsRawKV, 1)
	}
	b = appendString(b, metaBRVersion, m.BRVersion)
	b = appendVarint(b, metaVersion, uint64(int64(m.Version)))
	if m.FileIndex != nil {
		b = protowire.AppendTag(b, metaFileIndex, protowire.BytesType)
		b = protowire.AppendBytes(b, EncodeMetaFile(m.FileIndex))
	}
	b = appendString(b, metaBackupResult, m.BackupResult)
	return b
}

// EncodeMetaFile writes mf in BR's wire format.
func EncodeMetaFile(mf *MetaFile) []byte {
	if mf == nil {
		return nil
	}
	b := []byte{}
	for i := range mf.MetaFiles {
		b = protowire.AppendTag(b, metaFileMetaFiles, protowire.BytesType)
		b = protowire.AppendBytes(b, encodeFile(&mf.MetaFiles[i]))
	}
	for i := range mf.DataFiles {
		b = protowire.AppendTag(b, metaFileDataFiles, protowire.BytesType)
		b = protowire.AppendBytes(b, encodeFile(&mf.DataFiles[i]))
	}
	return b
}

func encodeFile(f *File) []byte {
	var b []byte
	b = appendString(b, fileName, f.Name)
	if len(f.SHA256) > 0 {
		b = protowire.AppendTag(b, fileSHA256, protowire.BytesType)
		b = protowire.AppendBytes(b, f.SHA256)
	}
	b = appendVarint(b, fileStartVersion, f.StartVersion)
	b = appendVarint(b, fileEndVersion, f.EndVersion)
	b = appendVarint(b, fileTotalKVs, f.TotalKVs)
	b = appendVarint(b, fileTotalBytes, f.TotalBytes)
	b = appendString(b, fileCF, f.CF)
	b = appendVarint(b, fileSize, f.Size)
	return b
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}
