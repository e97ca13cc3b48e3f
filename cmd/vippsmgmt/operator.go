package main

import (
	"flag"

	"github.com/vippsmgmt/vippsmgmt/client"
	"github.com/vippsmgmt/vippsmgmt/internal/cli"
)

// operatorFlags are what every operator command needs to reach the operator API: the server and
// the token it was started with.
type operatorFlags struct {
	baseURL, token string
}

// register adds --base-url (default VIPPSMGMT_BASE_URL) and --admin-token to fs.
func (o *operatorFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	o.baseURL = envOr(getenv, "VIPPSMGMT_BASE_URL", "http://localhost:8080")
	fs.StringVar(&o.baseURL, "base-url", o.baseURL, "vippsmgmt server (VIPPSMGMT_BASE_URL)")
	fs.StringVar(&o.token, "admin-token", "", "operator token the server was started with (VIPPSMGMT_ADMIN_TOKEN)")
}

// admin connects to the operator API as the command (admin, report) after the flags are parsed;
// the token may also come from VIPPSMGMT_ADMIN_TOKEN, and without one it is a usage error.
func (o *operatorFlags) admin(getenv func(string) string, command string) (*client.Admin, error) {
	secretFromEnv(getenv, map[*string]string{&o.token: "VIPPSMGMT_ADMIN_TOKEN"})
	if o.token == "" {
		return nil, cli.Usagef("%s needs --admin-token (or VIPPSMGMT_ADMIN_TOKEN)", command)
	}
	c, err := client.New(o.baseURL, client.WithAdminToken(o.token), client.WithSystem("vippsmgmt-"+command, cliVersion()))
	if err != nil {
		return nil, cli.UsageError{Err: err}
	}
	return c.Admin(), nil
}
