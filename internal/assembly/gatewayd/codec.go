package gatewayd

import (
	"log/slog"
	"slices"
	"sync"

	"go.temporal.io/sdk/converter"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows/codec"
)

// logCodecs says which regions encrypt (key ids, never keys); a region
// without keys is an error when keys.Require.
func logCodecs(cfg *configs.Config, keys codec.Source, logger *slog.Logger) error {
	for _, rc := range cfg.Regions {
		c, from, err := keys.Codec(rc.Name)
		if err != nil {
			return err
		}
		if c == nil {
			logger.Warn("payload encryption is off: no codec keys", "region", rc.Name)
			continue
		}
		logger.Info("payload encryption on", "region", rc.Name, "active_key", c.ActiveKeyID(), "from", from)
	}
	return nil
}

// codecLookup finds the codec of a namespace for the codec endpoint from
// the config in force: the region's own namespace and its isolated
// tenants' share the region's keys, and a region added by a config change
// is served without a restart. Codecs are built once per region.
func (g *Gateway) codecLookup(keys codec.Source) func(string) (converter.PayloadCodec, bool) {
	var built sync.Map // region name -> *codec.Codec
	return func(namespace string) (converter.PayloadCodec, bool) {
		cfg := g.Server.Config()
		for _, rc := range cfg.Regions {
			if !slices.Contains(router.Namespaces(cfg, rc), namespace) {
				continue
			}
			if c, ok := built.Load(rc.Name); ok {
				return c.(*codec.Codec), true
			}
			c, _, err := keys.Codec(rc.Name)
			if err != nil || c == nil {
				return nil, false
			}
			built.Store(rc.Name, c)
			return c, true
		}
		return nil, false
	}
}
