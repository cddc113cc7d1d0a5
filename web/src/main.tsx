import { render } from 'preact';
import { App } from './app';
import { live, state } from './lib/instance';
import { startSnapshots } from './lib/loaders';
import './styles.css';

live.start();
startSnapshots(state, live);
const root = document.getElementById('app');
if (root) render(<App />, root);
