package main

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// backend is BR's backup.StorageBackend (kvproto proto/brpb.proto): the message
// `br operator base64ify` marshals and base64-encodes, and `tikv-ctl compact-log-backup
// --storage-base64` decodes. Exactly one of the pointers is set (the proto's oneof).
//
// Field numbers: StorageBackend local=2 s3=3 gcs=4 azure_blob_storage=7; Local path=1; S3
// endpoint=1 region=2 bucket=3 prefix=4 storage_class=5 sse=6 acl=7 access_key=8
// secret_access_key=9 force_path_style=10 sse_kms_key_id=11 (checked against kvproto) and
// role_arn=12 external_id=13 session_token=15 provider=16 (later additions); GCS endpoint=1
// bucket=2 prefix=3 storage_class=4 predefined_acl=5 credentials_blob=6 (checked); Azure
// endpoint=1 bucket=2 prefix=3 storage_class=4 account_name=5 shared_key=6 (checked) and
// access_sig=8 encryption_scope=9 (later additions, from memory of kvproto: the backup-manager
// passes the string through opaquely, and this double both writes and reads it).
type backend struct {
	local *localBackend
	s3    *s3Backend
	gcs   *gcsBackend
	azure *azureBackend
}

type localBackend struct{ path string }

type s3Backend struct {
	endpoint, region, bucket, prefix, storageClass, sse, acl string
	accessKey, secretAccessKey                               string
	forcePathStyle                                           bool
	sseKMSKeyID, roleARN, externalID, sessionToken, provider string
}

type gcsBackend struct {
	endpoint, bucket, prefix, storageClass, predefinedACL, credentialsBlob string
}

type azureBackend struct {
	endpoint, bucket, prefix, storageClass, accountName, sharedKey, accessSig, encryptionScope string
}

const (
	fieldLocal = 2
	fieldS3    = 3
	fieldGCS   = 4
	fieldAzure = 7
)

// stringField is one string field of a message: its number and where its value lives.
type stringField struct {
	num protowire.Number
	v   *string
}

func (b *s3Backend) fields() []stringField {
	return []stringField{
		{1, &b.endpoint}, {2, &b.region}, {3, &b.bucket}, {4, &b.prefix}, {5, &b.storageClass},
		{6, &b.sse}, {7, &b.acl}, {8, &b.accessKey}, {9, &b.secretAccessKey},
		{11, &b.sseKMSKeyID}, {12, &b.roleARN}, {13, &b.externalID}, {15, &b.sessionToken},
		{16, &b.provider},
	}
}

func (b *gcsBackend) fields() []stringField {
	return []stringField{
		{1, &b.endpoint}, {2, &b.bucket}, {3, &b.prefix}, {4, &b.storageClass},
		{5, &b.predefinedACL}, {6, &b.credentialsBlob},
	}
}

func (b *azureBackend) fields() []stringField {
	return []stringField{
		{1, &b.endpoint}, {2, &b.bucket}, {3, &b.prefix}, {4, &b.storageClass},
		{5, &b.accountName}, {6, &b.sharedKey}, {8, &b.accessSig}, {9, &b.encryptionScope},
	}
}

func appendStrings(b []byte, fs []stringField) []byte {
	for _, f := range fs {
		if *f.v != "" { // proto3: default values are not written
			b = protowire.AppendTag(b, f.num, protowire.BytesType)
			b = protowire.AppendString(b, *f.v)
		}
	}
	return b
}

// encode marshals the backend as protobuf, fields in number order as Go's marshaller does.
func (be backend) encode() []byte {
	var num protowire.Number
	var msg []byte
	switch {
	case be.local != nil:
		num = fieldLocal
		msg = appendStrings(nil, []stringField{{1, &be.local.path}})
	case be.s3 != nil:
		num = fieldS3
		fs := be.s3.fields()
		msg = appendStrings(nil, fs[:9])
		if be.s3.forcePathStyle {
			msg = protowire.AppendTag(msg, 10, protowire.VarintType)
			msg = protowire.AppendVarint(msg, 1)
		}
		msg = appendStrings(msg, fs[9:])
	case be.gcs != nil:
		num = fieldGCS
		msg = appendStrings(nil, be.gcs.fields())
	case be.azure != nil:
		num = fieldAzure
		msg = appendStrings(nil, be.azure.fields())
	default:
		return nil
	}
	out := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(out, msg)
}

var errBadBackend = errors.New("cannot parse bytes as StorageBackend")

// decodeBackend unmarshals a StorageBackend, skipping fields it does not know as protobuf
// readers must.
func decodeBackend(data []byte) (backend, error) {
	var be backend
	err := eachField(data, func(num protowire.Number, typ protowire.Type, val []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldLocal:
			be = backend{local: &localBackend{}}
			return decodeStrings(val, []stringField{{1, &be.local.path}}, nil)
		case fieldS3:
			s := &s3Backend{}
			be = backend{s3: s}
			return decodeStrings(val, s.fields(), func(num protowire.Number, v uint64) {
				if num == 10 {
					s.forcePathStyle = v != 0
				}
			})
		case fieldGCS:
			g := &gcsBackend{}
			be = backend{gcs: g}
			return decodeStrings(val, g.fields(), nil)
		case fieldAzure:
			a := &azureBackend{}
			be = backend{azure: a}
			return decodeStrings(val, a.fields(), nil)
		case 1, 5, 6:
			return fmt.Errorf("%w: backend field %d (noop, cloud_dynamic, hdfs) is not supported by brdouble", errBadBackend, num)
		}
		return nil
	})
	if err != nil {
		return backend{}, err
	}
	if be == (backend{}) {
		return backend{}, fmt.Errorf("%w: no backend set", errBadBackend)
	}
	return be, nil
}

func decodeStrings(data []byte, fs []stringField, varint func(protowire.Number, uint64)) error {
	return eachField(data, func(num protowire.Number, typ protowire.Type, val []byte, v uint64) error {
		switch typ {
		case protowire.VarintType:
			if varint != nil {
				varint(num, v)
			}
		case protowire.BytesType:
			for _, f := range fs {
				if f.num == num {
					*f.v = string(val)
				}
			}
		}
		return nil
	})
}

// eachField walks a message's fields: val for length-delimited ones, v for varints.
func eachField(data []byte, fn func(num protowire.Number, typ protowire.Type, val []byte, v uint64) error) error {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return fmt.Errorf("%w: %w", errBadBackend, protowire.ParseError(n))
		}
		data = data[n:]
		var (
			val []byte
			v   uint64
		)
		switch typ {
		case protowire.BytesType:
			val, n = protowire.ConsumeBytes(data)
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(data)
		default:
			n = protowire.ConsumeFieldValue(num, typ, data)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %w", errBadBackend, num, protowire.ParseError(n))
		}
		data = data[n:]
		if err := fn(num, typ, val, v); err != nil {
			return err
		}
	}
	return nil
}

func (be backend) hasSecrets() bool {
	switch {
	case be.s3 != nil:
		return be.s3.accessKey != "" || be.s3.secretAccessKey != "" || be.s3.sessionToken != ""
	case be.gcs != nil:
		return be.gcs.credentialsBlob != ""
	case be.azure != nil:
		return be.azure.sharedKey != "" || be.azure.accessSig != ""
	}
	return false
}

func (be backend) redactSecrets() {
	hide := func(s *string) {
		if *s != "" {
			*s = redacted
		}
	}
	switch {
	case be.s3 != nil:
		hide(&be.s3.accessKey)
		hide(&be.s3.secretAccessKey)
		hide(&be.s3.sessionToken)
	case be.gcs != nil:
		hide(&be.gcs.credentialsBlob)
	case be.azure != nil:
		hide(&be.azure.sharedKey)
		hide(&be.azure.accessSig)
	}
}
