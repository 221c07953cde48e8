// Package pdapi is the operator's client for PD's HTTP API: the reads that feed TidbCluster
// status (health, members, leader, stores, config) and the writes that drive scaling, upgrades and
// failover (leader transfer, member and store deletion, store labels, evict-leader schedulers,
// replication config).
//
// The wire shapes follow what PD actually sends, quirks included: replication.location-labels
// is one comma-joined string, enable-placement-rules and strictly-match-label are the strings
// "true"/"false", and an unbootstrapped cluster answers /stores with an error body that this
// package turns into ErrNotBootstrapped. Deletes and leader transfers treat 404 as success, so a
// retried step is idempotent.
//
// The package also holds the HTTP conventions every component client of the operator shares
// (tikvapi, tidbapi, ticdcapi, tiflashapi import them): a 5 second timeout, proxies from the
// environment, and *HTTPError for any answer with status 400 or above.
package pdapi
