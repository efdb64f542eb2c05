// The dashboard's JSON API client. Writes carry the header the server requires of them (see src/ui/security.ts).

export class ApiError extends Error {}

export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

export async function postJson(path, body = {}) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-successor-dashboard': '1' },
    body: JSON.stringify(body),
  });
  const result = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(result.error ?? `${response.status} ${response.statusText}`);
  return result;
}
