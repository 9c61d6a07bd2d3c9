import { createRouter, createWebHistory } from 'vue-router';
import Home from './pages/Home.vue';

// The gateway answers each of these paths with this app (Gateway/Api/H5Endpoints.cs); anything else with the same
// page and a 404, shown here as the 404 page.
export const routes = [
  { path: '/', name: 'home', component: Home, meta: { title: '拼团' } },
  { path: '/g/:groupId', name: 'group', component: () => import('./pages/Group.vue'), meta: { title: '拼团详情' } },
  { path: '/orders', name: 'orders', component: () => import('./pages/Orders.vue'), meta: { title: '我的拼团' } },
  { path: '/rewards', name: 'rewards', component: () => import('./pages/Rewards.vue'), meta: { title: '我的奖励' } },
  { path: '/signin-problem', name: 'signin-problem', component: () => import('./pages/SignInProblem.vue'), meta: { title: '登录未完成' } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./pages/NotFound.vue'), meta: { title: '页面不存在' } },
];

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
});

router.afterEach(to => {
  document.title = to.meta.title ?? '拼团';
});
