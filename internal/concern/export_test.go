package concern

// AfterClaim sets what runs between taking a decision to suspend and
// changing the contract's status, to interrupt or race it.
func AfterClaim(s *Store, f func() error) { s.afterClaim = f }
