import { createApp } from 'vue';
import { Button, Cell, CellGroup, Empty, Loading, NoticeBar, Popup, Progress, Tabbar, TabbarItem, Tag } from 'vant';
import 'vant/lib/index.css';
import './styles.css';
import App from './App.vue';
import { router } from './router.js';
import { loadSession } from './lib/session.js';

loadSession().finally(() => {
  const app = createApp(App).use(router);
  for (const component of [Button, Cell, CellGroup, Empty, Loading, NoticeBar, Popup, Progress, Tabbar, TabbarItem, Tag]) {
    app.use(component);
  }
  app.mount('#app');
});
