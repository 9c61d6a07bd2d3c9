import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The build goes straight into the gateway's web root (git-ignored); Gateway/Gateway.csproj runs it (docs/h5.md).
// `npm run dev` serves the app with hot reload and passes the API through to a gateway started by ./run.sh.
const gateway = process.env.GROUPPAY_GATEWAY ?? 'http://127.0.0.1:5000';

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../Gateway/wwwroot', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    reportCompressedSize: false,
  },
  server: {
    proxy: Object.fromEntries(['/api', '/auth', '/h5', '/admin'].map(prefix => [prefix, gateway])),
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.js'],
  },
});
