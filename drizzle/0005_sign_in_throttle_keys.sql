-- The throttle counts failures per client address and per address and username: the old rows (per username
-- alone) are dropped with the old meaning.
DELETE FROM `login_throttle`;--> statement-breakpoint
ALTER TABLE `login_throttle` RENAME COLUMN `username` TO `key`;
