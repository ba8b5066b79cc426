package partner

import "go.mongodb.org/mongo-driver/v2/mongo"

// ContractsCollection exposes the contracts collection so tests can store a
// contract as an older version of the portal did.
func ContractsCollection(s *Store) *mongo.Collection { return s.contracts }
