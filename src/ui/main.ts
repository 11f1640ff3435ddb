document.getElementById('app')!.textContent = 'hypencoder-web';
