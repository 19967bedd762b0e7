// Package file holds the fault kinds that change files.
//
// file.corrupt flips, zeroes or truncates bytes of one regular file inside
// the configured file roots (DESIGN §6.7), in place (same inode). Before the
// change it keeps a copy of the original under the host manager's state
// directory (0600, fsynced) and records the SHA-256 of both the original and
// the faulted bytes in the receipt; the receipt never holds file contents.
//
// Recovery is compare-and-swap (DESIGN §6.2): the original bytes are written
// back only while the file still holds exactly the faulted bytes. A file that
// someone else changed meanwhile is left as they wrote it, the backup is kept,
// and the fault stays stuck until a person either restores the original from
// the backup (the next retry then ends the fault) or deletes the backup to
// keep the new contents.
//
// A marker file next to the backup brackets every in-place write, so a crash
// in the middle of writing is recognised as bulwark's own partial write and
// not mistaken for someone else's change.
package file
