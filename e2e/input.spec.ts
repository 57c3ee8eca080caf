// 10.4: input that a form's types let through but that must not get in is refused where it is typed, with a clear
// message; what does get in, however long, wraps instead of widening the page.
import { expect, test } from './support/app';
import { addUser, SEEDED_ADMIN, signIn, sourceRow } from './support/steps';

test.describe.configure({ mode: 'serial' });
test.use({ serverEnv: SEEDED_ADMIN });

test('10.4 a node whose service host is shell text, a source whose path holds a right-to-left override, and a schedule with seconds are refused', async ({
  page,
}) => {
  await signIn(page);
  await page.goto('/nodes');
  const register = page.getByRole('region', { name: 'Register a node' });
  await register.getByLabel('Name').fill('web-9');
  await register.getByLabel('Agent address').fill('http://127.0.0.1:7709');
  await register.getByLabel('Service host').fill('$(reboot)');
  await register.getByLabel('Service port').fill('8080');
  await register.getByRole('button', { name: 'Register node' }).click();
  await expect(register.getByText('A host name or an IP address, for example 10.0.0.5')).toBeVisible();
  await register.getByLabel('Service host').fill('127.0.0.1');
  await register.getByRole('button', { name: 'Register node' }).click();
  await expect(register.getByLabel('Agent config')).toBeVisible();

  await page.goto('/backups');
  const form = page.getByRole('form', { name: 'Add a source' });
  await form.getByLabel('Name').fill('spoofed');
  await form.getByLabel('Node').selectOption('web-9');
  await form.getByLabel('Path').fill('/srv/invoices/\u202efdp.exe');
  await form.getByLabel('Schedule (cron)').fill('* * * * * *');
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(form.getByText('No control characters or right-to-left overrides')).toBeVisible();
  await expect(form.getByText(/Not a cron expression of five fields/)).toBeVisible();
  await expect(sourceRow(page, 'spoofed')).toHaveCount(0);
});

test('10.4 a path of 3,000 characters wraps: no page gets wider than the window', async ({ page }) => {
  await signIn(page);
  await page.goto('/backups');
  const form = page.getByRole('form', { name: 'Add a source' });
  const long = `/srv/${'a'.repeat(3000)}`;
  await form.getByLabel('Name').fill('long-path');
  await form.getByLabel('Node').selectOption('web-9');
  await form.getByLabel('Path').fill(long);
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(form.getByRole('status')).toHaveText('Source long-path added.');
  for (const url of ['/backups', '/activity', '/']) {
    await page.goto(url);
    const { scroll, viewport } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
    }));
    expect(scroll, url).toBeLessThanOrEqual(viewport);
  }
});

test('10.4 a username that differs from another only in case is refused', async ({ page }) => {
  await signIn(page);
  await addUser(page, { username: 'dana', password: 'danas password' }, 'viewer');
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Username').fill('Dana');
  await form.getByLabel('Password').fill('another password');
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.getByText('Taken, as dana')).toBeVisible();
});
