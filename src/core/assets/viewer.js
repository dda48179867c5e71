/* viewer.js - the conversation viewer's one script (served as /static/viewer.js). Pages are
 * complete without it; it only loads a remote image, video or audio in place when its link
 * is clicked (links marked data-load), so nothing is fetched from a third-party host until
 * a person asks for it. It never reads data into markup: elements are built with the DOM,
 * and the address is the link's own. */
'use strict';

document.addEventListener('click', function (event) {
  var link = event.target.closest ? event.target.closest('a[data-load]') : null;
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
    return;
  }
  event.preventDefault();
  if (link.getAttribute('data-loaded') === 'true') {
    return;
  }
  var kind = link.getAttribute('data-load');
  var element;
  if (kind === 'image') {
    element = document.createElement('img');
    element.alt = 'image from ' + (link.getAttribute('data-host') || 'a remote host');
  } else if (kind === 'video' || kind === 'audio') {
    element = document.createElement(kind);
    element.controls = true;
    element.preload = 'metadata';
  } else {
    return;
  }
  element.referrerPolicy = 'no-referrer';
  element.className = 'loaded-media';
  element.src = link.href;
  link.setAttribute('data-loaded', 'true');
  var hint = link.parentNode.querySelector('.hint');
  if (hint) {
    hint.textContent = 'loaded from ' + (link.getAttribute('data-host') || 'a remote host');
  }
  link.parentNode.appendChild(element);
});
