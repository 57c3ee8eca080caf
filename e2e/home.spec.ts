import { expect, test } from '@playwright/test';

test('the home page names the product and the engine commands', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Lifeline', level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Backup engine' })).toBeVisible();
  await expect(page.getByText('npx lifeline init --repo')).toBeVisible();
});

test('the health endpoint answers without a session', async ({ request }) => {
  const res = await request.get('/api/health');
  expect(res.ok()).toBe(true);
  expect(await res.json()).toEqual({ ok: true });
});
