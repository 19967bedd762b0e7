package bulwark

// Version is the release of this binary; set at build time with
// -ldflags "-X github.com/bulwarkhq/bulwark.Version=…".
var Version = "0.1.0-dev"
