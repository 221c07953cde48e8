// Package tomlconfig turns a component's free-form configuration (spec.<component>.config, written
// either as a TOML document or as a nested map) into the TOML file the component reads.
//
// Both input forms are first brought to the same nested-map shape, so a TOML string and the
// equivalent map render to identical bytes. Settings the operator must own (certificate paths
// when TLS is on, for example) are then set on top, and the result is marshalled with sorted keys:
// the output is a pure function of its input, which lets a reconcile compare the rendered
// ConfigMap with the live one and write nothing when they match.
package tomlconfig
