// Package backupmeta reads BR's backupmeta: the protobuf message backup.BackupMeta of kvproto's
// brpb.proto, which BR writes as the object "backupmeta" at the root of every backup. The
// backup-manager takes a snapshot backup's commit TS (end_version), a log backup's start
// (start_version) and the backup's size from it.
//
// Only the fields the backup-manager needs are modelled, decoded with protowire, so that no
// generated kvproto code (and its gogo/protobuf dependency) is needed; every other field is
// skipped, whatever its wire type. Field numbers (kvproto brpb.proto):
//
//	BackupMeta: cluster_id 1, cluster_version 2, files 4 (v1 layout), start_version 5,
//	            end_version 6, is_raw_kv 8, br_version 11, version 12,
//	            file_index 13 (v2 layout), backup_result 17
//	File:       name 1, sha256 2, start_version 5, end_version 6, total_kvs 8, total_bytes 9,
//	            cf 10, size 11
//	MetaFile:   meta_files 1, data_files 2
//
// BR has two layouts. In v1 the data files are listed in files. In v2 (BR's
// --use-backupmeta-v2) file_index lists data files directly and, in meta_files, further objects
// under the same prefix (backupmeta.datafile.000000001, …) that are themselves MetaFile-encoded
// and may point on to more. Read follows them, bounded in depth and refusing cycles, and sums the
// data files' size. Meta files BR encrypted (backups taken with --crypter.*) cannot be read
// here: the reader has no key and fails on their checksum or encoding.
//
// Encode and EncodeMetaFile write the same subset in the real wire format, for test doubles
// that must produce a backupmeta the backup-manager reads like BR's.
package backupmeta
