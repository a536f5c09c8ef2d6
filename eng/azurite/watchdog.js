// Preloaded into Azurite by the tests (node -r): Azurite exits once the test process that started it is gone, so a
// test host that crashed or abandoned a timed-out test leaves no emulator behind. The pid comes from the environment.
const owner = Number(process.env.IMAGEFORGE_AZURITE_OWNER_PID);
if (owner > 0) {
  setInterval(() => {
    try {
      process.kill(owner, 0);
    } catch {
      process.exit(0);
    }
  }, 500).unref();
}
