import base from '@gradguard/eslint-config';

export default base;
