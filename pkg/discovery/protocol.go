package discovery

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidbops/tidb-operator/pkg/pdapi"
)

// Port serves the protocol; ProxyPort serves the PD dashboard reverse proxy.
const (
	Port      = 10261
	ProxyPort = 10262
)

// Component says which kind of member is asking.
type Component string

// The components that bootstrap through discovery.
const (
	ComponentPD Component = "pd"
	ComponentDM Component = "dm"
)

const (
	newPrefix    = "/new/"
	verifyPrefix = "/verify/"
)

// ServiceName is the discovery Service of a TidbCluster.
func ServiceName(tcName string) string { return tcName + "-discovery" }

// DMServiceName is the discovery Service of a DMCluster.
func DMServiceName(dcName string) string { return dcName + "-dm-discovery" }

// Endpoint is the base URL of a discovery Service as pods of the cluster reach it:
// "http://<service>.<ns>.svc:10261". The protocol is plain HTTP even in TLS clusters; the
// answers hold only addresses.
func Endpoint(namespace, serviceName string) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", serviceName, namespace, Port)
}

// encode is the path form of a URL in the protocol. Start scripts produce the same with
// `echo <url> | base64`, whose trailing newline the server trims.
func encode(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// NewURL is the question a member asks to learn how to start: advertisePeerURL is its own
// advertise peer address ("<pod>.<tc>-pd-peer.<ns>.svc:2380").
func NewURL(endpoint, advertisePeerURL string, c Component) string {
	u := strings.TrimRight(endpoint, "/") + newPrefix + encode(advertisePeerURL)
	if c != "" && c != ComponentPD {
		u += "/" + string(c)
	}
	return u
}

// VerifyURL asks which PD URL to use instead of pdURL.
func VerifyURL(endpoint, pdURL string) string {
	return strings.TrimRight(endpoint, "/") + verifyPrefix + encode(pdURL)
}

// Ask performs a protocol request and returns the answer: PD arguments for NewURL, a PD URL for
// VerifyURL. Error statuses come back as *pdapi.HTTPError; callers retry on any error, as the
// start scripts do.
func Ask(ctx context.Context, hc *http.Client, url string) (string, error) {
	res, err := pdapi.Do(ctx, hc, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if err := res.Err(); err != nil {
		return "", err
	}
	return string(res.Body), nil
}

// decodeArg decodes a base64 path argument, accepting the padded and raw, standard and URL-safe
// alphabets, and trims the newline `echo` leaves in it.
func decodeArg(s string) (string, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return strings.TrimSpace(string(b)), true
		}
	}
	return "", false
}

// splitNewPath reads "<base64>[/<component>]". The standard alphabet contains '/', so a suffix
// is only taken as a component when what precedes it decodes. For the padded encoding that
// start scripts and NewURL send this is unambiguous: a padded string is a multiple of 4 long,
// and cutting 3 characters leaves a length no base64 alphabet accepts.
func splitNewPath(rest string) (string, Component, bool) {
	for _, c := range []Component{ComponentPD, ComponentDM} {
		if arg, ok := strings.CutSuffix(rest, "/"+string(c)); ok {
			if decoded, ok := decodeArg(arg); ok {
				return decoded, c, true
			}
		}
	}
	decoded, ok := decodeArg(rest)
	return decoded, ComponentPD, ok
}
