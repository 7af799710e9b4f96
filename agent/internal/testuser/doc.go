// Package testuser makes throw-away unprivileged users for tests that must
// run tern both as root and as an ordinary user (containers and CI run as
// root, people do not). It is for tests only: nothing outside a _test.go
// file may import it, and it never touches a user it did not create.
package testuser
