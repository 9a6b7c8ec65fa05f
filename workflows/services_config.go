package workflows

import (
	"fmt"
	"time"

	"github.com/regiongate/regiongate/workflows/services"
)

// maxPropertyTimeout bounds a property request: SyncPropertyData heartbeats
// around each page fetch, and a fetch slower than the heartbeat timeout
// would make the server retry a healthy attempt.
const maxPropertyTimeout = syncHeartbeatTimeout - time.Second

// LoadServices reads a services file (see services.File) and builds the
// region's services: an HTTP adapter for each endpoint given, nil (the
// in-memory stand-in, filled in by NewActivitiesWith) for the others. It
// also returns the region's config, whose String says what each service is,
// for the log.
func LoadServices(path, region string) (Services, services.Config, error) {
	cfg, err := services.LoadRegion(path, region)
	if err != nil {
		return Services{}, services.Config{}, err
	}
	s, err := servicesFor(cfg)
	if err != nil {
		return Services{}, services.Config{}, fmt.Errorf("services config %s, region %s: %w", path, region, err)
	}
	return s, cfg, nil
}

func servicesFor(cfg services.Config) (Services, error) {
	var s Services
	if e := cfg.Payment; e != nil {
		p, err := services.NewHTTPPayments(*e)
		if err != nil {
			return Services{}, err
		}
		s.Payments = p
	}
	if e := cfg.Property; e != nil {
		if e.Timeout > maxPropertyTimeout {
			return Services{}, fmt.Errorf("property timeout: at most %s (the property sync's heartbeat timeout is %s)",
				maxPropertyTimeout, syncHeartbeatTimeout)
		}
		p, err := services.NewHTTPProperties(*e)
		if err != nil {
			return Services{}, err
		}
		s.Properties = p
	}
	if e := cfg.Notification; e != nil {
		n, err := services.NewHTTPNotifier(*e)
		if err != nil {
			return Services{}, err
		}
		s.Notifier = n
	}
	return s, nil
}
