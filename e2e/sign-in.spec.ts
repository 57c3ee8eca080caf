import { expect, test } from './support/app';

// One server and data directory for this file: the tests run in order, from the very first start.
test.describe.configure({ mode: 'serial' });

const admin = { username: 'ops-admin', password: 'a long admin password' };

test('without a session every page leads to setup, which creates the first admin', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel('Username').fill('x');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Repeat password').fill('other');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByText('At least 3 characters')).toBeVisible();
  await expect(page.getByText('At least 10 characters')).toBeVisible();
  await expect(page.getByText('The passwords differ')).toBeVisible();

  await page.getByLabel('Username').fill(admin.username);
  await page.getByLabel('Password', { exact: true }).fill(admin.password);
  await page.getByLabel('Repeat password').fill(admin.password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText(`${admin.username} · admin`)).toBeVisible();
});

test('setup closes once an admin exists', async ({ page }) => {
  await page.goto('/setup');
  await expect(page).toHaveURL(/\/login$/);
});

test('a wrong password is refused; the right one signs in; sign out ends the session', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Username').fill(admin.username);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong' })).toHaveText('Wrong username or password.');

  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('repeated failed sign-ins for a username are slowed down', async ({ page }) => {
  await page.goto('/login');
  for (let i = 0; i < 3; i++) {
    await page.getByLabel('Username').fill('mallory');
    await page.getByLabel('Password').fill(`guess ${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The form clears the password when the answer is in: only then is this attempt over.
    await expect(page.getByLabel('Password')).toHaveValue('');
    await expect(page.getByRole('alert').filter({ hasText: 'Wrong' })).toBeVisible();
  }
  await page.getByLabel('Password').fill('guess 3');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Too many failed attempts' })).toBeVisible();
});

test('the session cookie is httpOnly and SameSite', async ({ page, context }) => {
  await page.goto('/login');
  await page.getByLabel('Username').fill(admin.username);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  const cookie = (await context.cookies()).find((c) => c.name === 'lifeline_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');
});

test('only the health endpoint answers without a session', async ({ request }) => {
  const health = await request.get('/api/health');
  expect(health.ok()).toBe(true);
  expect(await health.json()).toEqual({ ok: true });
  const page = await request.get('/', { maxRedirects: 0 });
  expect(page.status()).toBe(307);
  expect(page.headers().location).toMatch(/\/login$/);
  // The nodes' storage API answers signed requests only, whatever their size.
  const upload = await request.put(`/api/agent/storage/data/${'ab'.repeat(32)}`, { data: Buffer.alloc(12 << 20) });
  expect(upload.status()).toBe(401);
  expect(await upload.text()).toBe('not authenticated (missing)');
});
