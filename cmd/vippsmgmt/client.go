package main

import (
	"context"
	"io"
)

func runQuickstart(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return usagef("quickstart: not available in this build")
}

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return usagef("admin: not available in this build")
}
