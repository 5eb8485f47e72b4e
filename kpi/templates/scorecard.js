(function(){
  var errors=[];window.addEventListener('error',function(e){errors.push(String(e.message));document.body.setAttribute('data-errors',errors.join('|'));});
  var selects=document.querySelectorAll('.filters select');
  function apply(){
    var rows=document.querySelectorAll('table.kpi tbody tr');var counts={};var total=0;
    rows.forEach(function(row){
      var show=true;selects.forEach(function(s){if(s.value!==''&&row.getAttribute('data-'+s.name.replace(/_/g,'-'))!==s.value){show=false;}});
      row.classList.toggle('hidden',!show);
      if(show&&!row.dataset.group){total++;counts['trend-'+row.dataset.trend]=(counts['trend-'+row.dataset.trend]||0)+1;
               counts['target-'+row.dataset.status]=(counts['target-'+row.dataset.status]||0)+1;}
    });
    document.querySelectorAll('[data-count]').forEach(function(cell){
      var key=cell.dataset.count;cell.textContent=key==='total'?total:(counts[key]||0);});
  }
  selects.forEach(function(s){s.addEventListener('change',apply);});
  // Filters can be given in the address too: scorecard.html#service_group=Child%20Protection
  var hash=decodeURIComponent(location.hash.replace(/^#/,''));
  hash.split('&').forEach(function(pair){var kv=pair.split('=');selects.forEach(function(s){if(s.name===kv[0]){s.value=kv[1];}});});
  apply();document.body.setAttribute('data-ready','yes');
})();
