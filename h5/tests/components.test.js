import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { Button } from 'vant';
import ErrorNotice from '../src/components/ErrorNotice.vue';
import UserAvatar from '../src/components/UserAvatar.vue';

describe('ErrorNotice', () => {
  it('renders the Chinese sentence and its next actions, never the code', async () => {
    const wrapper = mount(ErrorNotice, { props: { code: 'group-full' }, global: { plugins: [Button] } });
    expect(wrapper.text()).toContain('名额都被占住了');
    expect(wrapper.text()).not.toContain('group-full');
    const buttons = wrapper.findAll('button');
    expect(buttons.map(b => b.text())).toEqual(['去开新团', '看看其他团']);
    await buttons[0].trigger('click');
    expect(wrapper.emitted('action')).toEqual([['start-new']]);
  });
});

describe('UserAvatar', () => {
  it('shows the first character of the name, or ? for a free slot', () => {
    expect(mount(UserAvatar, { props: { name: '爱丽丝' } }).text()).toBe('爱');
    expect(mount(UserAvatar, { props: { name: '待加入', empty: true } }).text()).toBe('?');
  });
});
