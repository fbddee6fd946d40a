// Fails the install early, with the package to install, when the native build cannot succeed.
import { existsSync } from 'node:fs';

const missing = [];
const dnnlHeaders = ['/usr/include/oneapi/dnnl/dnnl.h', '/usr/local/include/oneapi/dnnl/dnnl.h'];
if (!dnnlHeaders.some((p) => existsSync(p))) missing.push('libdnnl-dev (oneDNN, for GEMM)');
if (missing.length > 0) {
  console.error(
    `peftjs: the native addon cannot be built; missing: ${missing.join(', ')}.\n` +
      `On Debian/Ubuntu: sudo apt-get install -y libdnnl-dev g++ make python3`,
  );
  process.exit(1);
}
