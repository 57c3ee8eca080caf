ALTER TABLE `drills` ADD `intent_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `drills_intent_id_unique` ON `drills` (`intent_id`);