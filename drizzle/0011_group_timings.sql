ALTER TABLE `failover_groups` ADD `renew_ms` integer;--> statement-breakpoint
ALTER TABLE `failover_groups` ADD `max_lag_ms` integer;