package backupenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The file names of a client certificate folder are those of the Secret the operator mounts
// for TiDB's MySQL port (a kubernetes.io/tls Secret with the CA added), so that the folder can
// be handed to the backup-manager as it is.
const (
	TLSCAFile   = "ca.crt"
	TLSCertFile = "tls.crt"
	TLSKeyFile  = "tls.key"
)

// The server's own files, in a folder apart from the client's: a folder handed to the code
// under test as "the client certificate" must not hold the server's private key.
const (
	serverCertFile = "server.crt"
	serverKeyFile  = "server.key"
)

// certValidity is how long the generated certificates are valid: a test run, with room for a
// clock that is somewhat off. They are made anew for every server.
const certValidity = 24 * time.Hour

// tlsFiles is where a server's certificates were written.
type tlsFiles struct {
	// clientDir holds ca.crt, tls.crt and tls.key: the CA and a client certificate for root.
	clientDir string
	// serverDir holds ca.crt, server.crt and server.key for mariadbd's --ssl-* flags.
	serverDir string
	// client is the go-sql-driver configuration that verifies the server and presents the
	// client certificate.
	client *tls.Config
}

// certAuthority is a CA that can sign certificates.
type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// writeTLSFiles makes a new CA, a server certificate for 127.0.0.1 (as an IP SAN, since that
// is the address clients dial and verify) and a client certificate, all signed by that CA,
// and writes them under dir/client and dir/server. ECDSA P-256 keys, because generating RSA
// keys is slow on a loaded CI machine and MariaDB (OpenSSL) and Go both accept them.
func writeTLSFiles(dir string) (tlsFiles, error) {
	ca, err := newCA("backupenv test CA")
	if err != nil {
		return tlsFiles{}, err
	}
	serverCert, serverKey, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return tlsFiles{}, fmt.Errorf("server certificate: %w", err)
	}
	clientCert, clientKey, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "root"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return tlsFiles{}, fmt.Errorf("client certificate: %w", err)
	}
	f := tlsFiles{clientDir: filepath.Join(dir, "client"), serverDir: filepath.Join(dir, "server")}
	err = writeFiles(f.clientDir, map[string][]byte{TLSCAFile: ca.pem, TLSCertFile: clientCert, TLSKeyFile: clientKey})
	if err != nil {
		return tlsFiles{}, err
	}
	err = writeFiles(f.serverDir, map[string][]byte{TLSCAFile: ca.pem, serverCertFile: serverCert, serverKeyFile: serverKey})
	if err != nil {
		return tlsFiles{}, err
	}
	pair, err := tls.X509KeyPair(clientCert, clientKey)
	if err != nil {
		return tlsFiles{}, fmt.Errorf("load the client certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	f.client = &tls.Config{
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		ServerName:   "127.0.0.1",
		MinVersion:   tls.VersionTLS12,
	}
	return f, nil
}

// newCA makes a self-signed CA.
func newCA(name string) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate a CA key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse the CA certificate: %w", err)
	}
	return &certAuthority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// issue signs a certificate with the subject, names and usages of tmpl for a new key, and
// returns both in PEM (the key as PKCS #8).
func (ca *certAuthority) issue(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate a key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = ca.cert.NotBefore
	tmpl.NotAfter = ca.cert.NotAfter
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign %q: %w", tmpl.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode the key of %q: %w", tmpl.Subject.CommonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate a serial number: %w", err)
	}
	return n, nil
}

// writeFiles writes files into dir, creating it. Everything is readable by this user only:
// the keys must be, and mariadbd runs as this user (or as root, which reads anything).
func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// copyClientWithCA writes into dst the client certificate and key of the folder src, with
// caPEM as its ca.crt.
func copyClientWithCA(src, dst string, caPEM []byte) error {
	files := map[string][]byte{TLSCAFile: caPEM}
	for _, name := range []string{TLSCertFile, TLSKeyFile} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return fmt.Errorf("read the client certificate: %w", err)
		}
		files[name] = data
	}
	return writeFiles(dst, files)
}
