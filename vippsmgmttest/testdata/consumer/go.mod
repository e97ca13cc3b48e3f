module example.com/consumer

go 1.26.8

require github.com/vippsmgmt/vippsmgmt v0.0.0-00010101000000-000000000000

// A checkout of vippsmgmt; with a released version, drop this line.
replace github.com/vippsmgmt/vippsmgmt => ../../..
