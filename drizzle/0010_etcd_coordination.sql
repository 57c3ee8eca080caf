ALTER TABLE `failover_groups` ADD `coordination` text DEFAULT 'dashboard' NOT NULL;--> statement-breakpoint
ALTER TABLE `failover_events` ADD `etcd_token` text;--> statement-breakpoint
CREATE UNIQUE INDEX `failover_events_etcd_token_idx` ON `failover_events` (`group_id`,`etcd_token`);