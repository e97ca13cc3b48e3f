package httpapi

// SetFastRoutes turns the hand-written fast routes on or off for servers made afterwards, so a
// test can hold them to the generated handlers' answers.
func SetFastRoutes(on bool) { fastRoutesOff = !on }
