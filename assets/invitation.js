// Opening an invitation link (/?invitation=TOKEN): someone without an account signs up with
// it (even when sign-up is closed); someone signed in accepts it and joins the notebook.

import { ApiError } from './api.js';
import { teamsApi } from './teams-api.js';

// Set when sign-up used the invitation (and so already joined): what the notes screen says.
let joinedBySignup = {};

/** {notebookId, message} of a sign-up that joined a notebook, once. */
export function takeJoined() {
  const joined = joinedBySignup;
  joinedBySignup = {};
  return joined;
}

/** The token in the address bar, if any. */
export function invitationToken() {
  return new URLSearchParams(location.search).get('invitation');
}

/** Takes the token out of the address, so a reload does not use it again. */
export function forgetInvitation() {
  const url = new URL(location.href);
  url.searchParams.delete('invitation');
  history.replaceState({}, '', `${url.pathname}${url.search}${url.hash}`);
}

/**
 * What the sign-up card needs: {copy, signup, email, notice} to spread into renderAuth's
 * options; a link that no longer works gives a notice only.
 */
export async function invitationAuth(token) {
  let info;
  try {
    info = await teamsApi.invitation(token);
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) {
      forgetInvitation();
      return { notice: 'This invitation link no longer works (used or expired). Ask for a new one.' };
    }
    throw error;
  }
  const name = info.notebook_name ?? null;
  const lead = name ? `You were invited to “${name}”.` : 'You were invited to notebox.';
  return {
    // An invited email that already has an account logs in and accepts instead.
    mode: info.has_account ? 'login' : 'signup',
    signupOpen: true,
    email: info.email ?? '',
    copy: {
      signup: { title: 'Join notebox', lead: `${lead} Create your account to start.`, submit: 'Create account and join' },
      login: { lead: `${lead} Log in to accept.` },
    },
    signup: async (email, password, displayName) => {
      const answer = await teamsApi.signup(token, email, password, displayName);
      forgetInvitation();
      joinedBySignup = { notebookId: info.notebook_id ?? null, message: name ? `Welcome! You joined “${name}”.` : 'Welcome!' };
      return answer;
    },
  };
}

/**
 * Joins as the signed-in user. Resolves {notebookId, message} for the notes screen.
 * Signing up with the token already joined, so an "already used" answer then is fine.
 */
export async function acceptInvitation(token) {
  forgetInvitation();
  try {
    const { notebook_name: name } = await teamsApi.invitation(token);
    const answer = await teamsApi.accept(token);
    return { notebookId: answer?.notebook_id ?? null, message: name ? `You joined “${name}”.` : 'Invitation accepted.' };
  } catch (error) {
    if (error instanceof ApiError) return { notebookId: null, message: `The invitation could not be accepted: ${error.message}` };
    throw error;
  }
}
