CREATE TABLE `node_objects` (
	`name` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`size` integer NOT NULL,
	`added_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `node_objects_node` ON `node_objects` (`node_id`);--> statement-breakpoint
ALTER TABLE `nodes` ADD `quota_bytes` integer;--> statement-breakpoint
ALTER TABLE `nodes` ADD `quota_objects` integer;--> statement-breakpoint
ALTER TABLE `nodes` ADD `quota_requests_per_minute` integer;