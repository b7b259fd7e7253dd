// A module whose evaluation throws, as a backend bundle does when its platform is wrong.
throw new Error('this module cannot run here');
