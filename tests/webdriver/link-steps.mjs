// Steps of the link dialog shared by the WebDriver tests.

/**
 * From a fresh data directory: welcome → overview → the link dialog, with the Demo Bank's finAPI
 * face (`kind`: "finapi") or its finX face ("finx") chosen.
 */
export async function openLinkDialog(session, kind = "finapi") {
  await session.click('[data-testid="get-started"]');
  await session.click('[data-testid="link-bank"]');
  await chooseProvider(session, kind);
}

/** The provider step (the Demo Bank offers its finAPI and its finX face). */
export async function chooseProvider(session, kind = "finapi") {
  await session.waitFor('[data-testid="step-provider"], [data-testid="bank-search-input"], [data-testid="step-finx"]', 30_000);
  const onProviderStep = await session.execute("return document.querySelector('[data-testid=\"step-provider\"]') !== null;");
  if (onProviderStep) {
    await session.click(`[data-testid="provider-option"][data-kind="${kind}"]`);
    await session.click('[data-testid="step-provider"] button[type="submit"]');
  }
  await session.waitFor(kind === "finx" ? '[data-testid="step-finx"]' : '[data-testid="bank-search-input"]', 30_000);
}

export async function pickBank(session, query, bankId) {
  await session.type('[data-testid="bank-search-input"]', query);
  await session.click(`[data-testid="bank-result"][data-bank-id="${bankId}"]`);
}

export async function signIn(session, login = "demo", pin = "demo") {
  await session.type('[data-testid="credential-field"][data-label="Onlinebanking-ID"]', login);
  await session.type('[data-testid="credential-field"][data-label="PIN"]', pin);
  await session.click('[data-testid="credentials-submit"]');
}

export async function chooseProcedure(session, id) {
  await session.click(`[data-testid="procedure-option"][data-procedure-id="${id}"]`);
  await session.click('[data-testid="procedure-submit"]');
}

export async function enterTan(session, tan = "123456") {
  await session.type('[data-testid="tan-form"] input', tan);
  await session.click('[data-testid="tan-submit"]');
}
