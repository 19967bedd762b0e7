// Package agentpb is the agent wire protocol (protobuf package
// bulwark.agent.v1) and its generated Go code. agent.proto is the source;
// the .pb.go files are generated and committed (CI does not regenerate).
//
// To regenerate, with protoc 3.21+ and the generators at the pinned versions:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
//	go generate ./internal/agentpb/
//
// Compatibility rules are in agent.proto: fields are only added; a server
// speaks its own ProtocolVersion and ProtocolVersion-1.
package agentpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative agent.proto
//go:generate protoc --go_out=. --go_opt=paths=source_relative v1frozen/agent_v1.proto

// ProtocolVersion is the version this binary speaks.
const ProtocolVersion = 2

// MinProtocolVersion is the oldest agent version the server still accepts.
const MinProtocolVersion = ProtocolVersion - 1
