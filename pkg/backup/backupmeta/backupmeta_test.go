package backupmeta

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func sampleV1() *Meta {
	return &Meta{
		ClusterID: 6900000000000000001, ClusterVersion: `"8.5.0"`, BRVersion: "BR\nRelease Version: v8.5.0",
		StartVersion: 0, EndVersion: 456789012345678901, Version: 1, BackupResult: "",
		Files: []File{
			{Name: "1_2_3_default.sst", SHA256: []byte{1, 2, 3}, StartVersion: 1, EndVersion: 9, TotalKVs: 10, TotalBytes: 2000, CF: "default", Size: 1500},
			{Name: "1_2_3_write.sst", EndVersion: 9, TotalKVs: 10, TotalBytes: 500, CF: "write", Size: 300},
		},
	}
}

func sampleV2() *Meta {
	return &Meta{
		ClusterID: 7, StartVersion: 100, EndVersion: 200, IsRawKV: true, Version: 2, BackupResult: "ok",
		FileIndex: &MetaFile{
			MetaFiles: []File{{Name: "backupmeta.datafile.000000001", SHA256: make([]byte, 32), Size: 77}},
			DataFiles: []File{{Name: "a.sst", Size: 10}},
		},
	}
}

// raw builds wire bytes by hand for cases Encode cannot produce.
type raw []byte

func (r raw) varint(num protowire.Number, v uint64) raw {
	r = protowire.AppendTag(r, num, protowire.VarintType)
	return protowire.AppendVarint(r, v)
}

func (r raw) bytes(num protowire.Number, b []byte) raw {
	r = protowire.AppendTag(r, num, protowire.BytesType)
	return protowire.AppendBytes(r, b)
}

func (r raw) fixed32(num protowire.Number, v uint32) raw {
	r = protowire.AppendTag(r, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(r, v)
}

func (r raw) fixed64(num protowire.Number, v uint64) raw {
	r = protowire.AppendTag(r, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(r, v)
}

func (r raw) group(num protowire.Number, inner raw) raw {
	r = protowire.AppendTag(r, num, protowire.StartGroupType)
	r = append(r, inner...)
	return protowire.AppendTag(r, num, protowire.EndGroupType)
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		meta *Meta
	}{
		{"a v1 backupmeta with data files round-trips", sampleV1()},
		{"a v2 backupmeta with a file index round-trips", sampleV2()},
		{"an empty backupmeta round-trips", &Meta{}},
		{"an empty file index stays present", &Meta{FileIndex: &MetaFile{}}},
		{"a negative layout version round-trips", &Meta{Version: -3}},
		{"a file with no fields set round-trips", &Meta{Files: []File{{}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(Encode(tc.meta))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.meta) {
				t.Fatalf("Decode(Encode(m)) =\n%+v\nwant\n%+v", got, tc.meta)
			}
		})
	}
	t.Run("a meta file round-trips", func(t *testing.T) {
		mf := &MetaFile{MetaFiles: []File{{Name: "m1"}}, DataFiles: []File{{Name: "d1", Size: 5}, {Name: "d2", Size: 6, CF: "write"}}}
		got, err := DecodeMetaFile(EncodeMetaFile(mf))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, mf) {
			t.Fatalf("DecodeMetaFile(EncodeMetaFile(mf)) = %+v, want %+v", got, mf)
		}
	})
	t.Run("nil encodes to nothing", func(t *testing.T) {
		if Encode(nil) != nil || EncodeMetaFile(nil) != nil {
			t.Fatal("nil should encode to nil")
		}
	})
}

func TestDecode(t *testing.T) {
	file := raw(nil).bytes(fileName, []byte("x.sst")).
		varint(3, 99).fixed32(4, 1).fixed64(7, 2).bytes(12, []byte("cipher iv")).
		varint(fileSize, 42)
	metaFile := raw(nil).bytes(3, []byte("schema")).bytes(metaFileDataFiles, file).varint(5, 1)
	for _, tc := range []struct {
		name string
		in   []byte
		want *Meta
	}{
		{
			"unknown fields of every wire type are skipped",
			raw(nil).varint(3, 1).fixed32(9, 7).fixed64(10, 8).bytes(7, []byte("schemas")).
				group(15, raw(nil).varint(1, 5).bytes(2, []byte("x"))).
				varint(metaEndVersion, 500).bytes(18, []byte("future")),
			&Meta{EndVersion: 500},
		},
		{
			"unknown fields inside files and meta files are skipped",
			raw(nil).bytes(metaFiles, file).bytes(metaFileIndex, metaFile),
			&Meta{Files: []File{{Name: "x.sst", Size: 42}}, FileIndex: &MetaFile{DataFiles: []File{{Name: "x.sst", Size: 42}}}},
		},
		{
			"a known field with an unexpected wire type is skipped",
			raw(nil).bytes(metaEndVersion, []byte("not a varint")).fixed64(metaStartVersion, 1).varint(metaClusterID, 3),
			&Meta{ClusterID: 3},
		},
		{
			"the last value of a repeated scalar wins",
			raw(nil).varint(metaEndVersion, 1).varint(metaEndVersion, 2),
			&Meta{EndVersion: 2},
		},
		{
			"repeated file indexes are merged",
			raw(nil).bytes(metaFileIndex, raw(nil).bytes(metaFileDataFiles, raw(nil).varint(fileSize, 1))).
				bytes(metaFileIndex, raw(nil).bytes(metaFileDataFiles, raw(nil).varint(fileSize, 2))),
			&Meta{FileIndex: &MetaFile{DataFiles: []File{{Size: 1}, {Size: 2}}}},
		},
		{
			"any non-zero varint is true for is_raw_kv",
			raw(nil).varint(metaIsRawKV, 7),
			&Meta{IsRawKV: true},
		},
		{"empty input is an empty backupmeta", nil, &Meta{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Decode =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
	t.Run("decoded hashes do not alias the input", func(t *testing.T) {
		in := Encode(sampleV1())
		m, err := Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			in[i] = 0
		}
		if m.Files[0].SHA256[0] != 1 {
			t.Fatal("SHA256 changed with the input buffer")
		}
	})
}

func TestDecodeCorrupt(t *testing.T) {
	valid := Encode(sampleV1())
	for _, tc := range []struct {
		name    string
		in      []byte
		eof     bool
		message string
	}{
		{"input cut inside a length-delimited field is truncated", valid[:len(valid)-3], true, "field 11"},
		{"input cut inside a varint is truncated", []byte{byte(metaEndVersion << 3), 0x80, 0x80}, true, "field 6"},
		{"input cut inside a tag is truncated", []byte{0x80}, true, "field tag at byte 0"},
		{"a length beyond the input is truncated", raw(nil).varint(metaClusterID, 1).append(protowire.AppendTag(nil, metaClusterVersion, protowire.BytesType)).append([]byte{10, 'a'}), true, "field 2 at byte 2"},
		{"field number zero is refused", []byte{0x00, 0x01}, false, "field tag"},
		{"a lone end-group is refused", protowire.AppendTag(nil, 5, protowire.EndGroupType), false, "field 5"},
		{"a reserved wire type is refused", []byte{0x0f}, false, "reserved wire type"},
		{"a broken file inside the files list names where it is", raw(nil).varint(metaClusterID, 1).bytes(metaFiles, []byte{0x5a, 0x05, 'x'}), true, "files"},
		{"a broken file index names where it is", raw(nil).bytes(metaFileIndex, []byte{0x12, 0x03, 0x0a}), true, "file_index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error = %v, want one wrapping ErrCorrupt", err)
			}
			if tc.eof != errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error = %v, unexpected EOF wanted: %v", err, tc.eof)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q does not mention %q", err, tc.message)
			}
		})
	}
	t.Run("every prefix of a valid backupmeta decodes or fails cleanly", func(t *testing.T) {
		in := Encode(sampleV2())
		for i := range in {
			if _, err := Decode(in[:i]); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("prefix %d: error %v does not wrap ErrCorrupt", i, err)
			}
		}
	})
	t.Run("a broken meta file is refused", func(t *testing.T) {
		_, err := DecodeMetaFile([]byte{0x0a, 0x09})
		if !errors.Is(err, ErrCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("error = %v", err)
		}
	})
}

func (r raw) append(b []byte) raw { return append(r, b...) }

func FuzzDecode(f *testing.F) {
	f.Add(Encode(sampleV1()))
	f.Add(Encode(sampleV2()))
	f.Add(EncodeMetaFile(sampleV2().FileIndex))
	f.Add([]byte{})
	f.Add([]byte{0x6a, 0x80})
	f.Add([]byte(raw(nil).group(15, raw(nil).varint(1, 5))))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := Decode(data); err == nil {
			again, err := Decode(Encode(m))
			if err != nil {
				t.Fatalf("re-decoding an encoded backupmeta failed: %v", err)
			}
			if !reflect.DeepEqual(again, m) {
				t.Fatalf("Encode/Decode changed the backupmeta:\n%+v\n%+v", m, again)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
		if mf, err := DecodeMetaFile(data); err == nil {
			again, err := DecodeMetaFile(EncodeMetaFile(mf))
			if err != nil || !reflect.DeepEqual(again, mf) {
				t.Fatalf("Encode/Decode changed the meta file: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
	})
}
