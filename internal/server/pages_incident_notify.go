package server

import "github.com/gin-gonic/gin"

// incidentJourneyRoutes registers the partner officer's journey for
// notifying a serious incident.
func (s *Server) incidentJourneyRoutes(private *gin.RouterGroup) {}
