// Package nstest gives the netfault tests network namespaces of their own:
// created by unshare on a throwaway thread, held only by a file descriptor
// (nothing under /run/netns, so nothing is left if a test dies), with sockets
// opened inside them. It never touches the caller's namespace.
package nstest
